"""Fixtures for browser tests in headless Chromium.

Playwright cannot download its own browsers here, so the tests drive Debian's
Chromium (``/usr/bin/chromium``, or the path in ``PODSTUDIO_CHROMIUM``), installed
by ``make chromium``. Registered as a plugin by ``tests/conftest.py``.

- ``browser_type_launch_args`` / ``browser_context_args``: override
  pytest-playwright's fixtures (Debian Chromium, its flags, a 1280x800 viewport).
- ``screenshot``: ``screenshot("label")`` saves the page to
  ``test-artifacts/<test name>-<label>.png`` and returns the path.
- Tests under ``tests/e2e/`` get the ``e2e`` marker (``pytest -m "not e2e"``
  skips them). ``tests/e2e/conftest.py`` runs them last and allows Django's ORM
  beside Playwright's event loop while they run (``DJANGO_ALLOW_ASYNC_UNSAFE``).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from composer.http import sse as streams

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
ARTIFACTS_DIR = "test-artifacts"


def chromium_path() -> str:
    """The Chromium binary the browser tests launch."""
    return os.environ.get("PODSTUDIO_CHROMIUM") or DEFAULT_CHROMIUM


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options (--headed, --slowmo …) plus Debian's Chromium."""
    executable = chromium_path()
    if not os.access(executable, os.X_OK):
        pytest.fail(
            f"Chromium not found at {executable}: run `make chromium` "
            "(or set PODSTUDIO_CHROMIUM to a Chromium binary)",
            pytrace=False,
        )
    args = [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS]
    return {**browser_type_launch_args, "executable_path": executable, "args": args}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """Every browser context gets a 1280x800 viewport."""
    return {**browser_context_args, "viewport": dict(VIEWPORT)}


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "screenshot"


def artifact_path(rootdir: Path, test_name: str, label: str) -> Path:
    """Where ``screenshot`` saves: ``<rootdir>/test-artifacts/<test name>-<label>.png``."""
    return Path(rootdir) / ARTIFACTS_DIR / f"{_safe_name(test_name)}-{_safe_name(label)}.png"


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """``screenshot(label, page=None, full_page=True) -> Path``.

    Saves a PNG of ``page`` (the test's ``page`` fixture unless another page is
    given) to ``test-artifacts/<test name>-<label>.png`` under the repository root.
    """

    def take(label: str, page: Any = None, *, full_page: bool = True) -> Path:
        target = page if page is not None else request.getfixturevalue("page")
        path = artifact_path(request.config.rootpath, request.node.name, label)
        path.parent.mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    e2e_dir = config.rootpath / "tests" / "e2e"
    for item in items:
        if e2e_dir in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


def leave_and_wait_for_streams(page: Any, seconds: float = 10) -> None:
    """Leave the page, then wait until the server has noticed and closed its streams: they must not
    outlive the test's database and namespace (the server notices at its next heartbeat)."""
    page.goto("about:blank")
    deadline = time.monotonic() + seconds
    while streams.SLOTS.open and time.monotonic() < deadline:
        time.sleep(0.05)
    assert streams.SLOTS.open == 0, "a stream outlived its page"


def open_composer(page: Any, live_server: Any, composition: Any) -> Any:
    """Saves ``composition`` and opens its composer page, once the Pod region shows; the saved composition.
    Imports inside: this module is a pytest plugin, loaded before Django is set up."""
    from playwright.sync_api import expect

    from composer.models import SavedComposition

    saved = SavedComposition.create(composition)
    page.goto(f"{live_server.url}{saved.get_absolute_url()}")
    expect(page.get_by_role("region", name="Pod", exact=True)).to_be_visible()
    return saved
