"""Browser tests: Django's ORM beside pytest-playwright's event loop.

pytest-playwright's sync API starts an asyncio loop in the main thread when the first browser test
asks for a browser (its session-scoped ``playwright`` fixture) and stops it only at the end of the
session. While a loop runs in a thread, Django refuses ORM calls from that thread
(SynchronousOnlyOperation), e.g. pytest-django flushing the database after a live_server test,
although these are ordinary synchronous calls: the loop only drives the browser. So:

- ``playwright`` (pytest-playwright's, extended) sets ``DJANGO_ALLOW_ASYNC_UNSAFE=true`` from the
  moment the loop starts until it stops;
- the browser tests run after all the others, so that neither the loop nor the switch is on while
  those run: there Django's check still catches ORM calls from async code, and the servers that
  tests start in subprocesses (uvicorn, runserver) do not inherit the switch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Playwright

E2E_DIR = Path(__file__).parent


@pytest.hookimpl(trylast=True)  # after pytest-django's and pytest's own reordering
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: E2E_DIR in Path(item.path).parents)  # stable: the others keep their order


@pytest.fixture(scope="session")
def playwright(playwright: Playwright) -> Iterator[Playwright]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield playwright
