"""The fault-injecting proxy in front of the real control plane (a pytest plugin, see tests/conftest.py).

- ``fault_proxy`` (per test): a started ``FaultProxy`` (tests/support/faultproxy.py) in front of
  the session's ``control_plane``, stopped after the test (its open streams end). Its kubeconfig
  (``fault_proxy.kubeconfig``) has one context, ``faulty``; ``KUBECONFIG`` is not set: a test
  that deploys through it sets it (``monkeypatch.setenv("KUBECONFIG", str(fault_proxy.kubeconfig))``).
  Skips, like ``control_plane``, where the control plane cannot run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def fault_proxy(control_plane, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    from tests.support.faultproxy import FaultProxy  # imports controlplane (and its yaml) only when used

    proxy = FaultProxy(control_plane, tmp_path_factory.mktemp("faultproxy", numbered=True)).start()
    try:
        yield proxy
    finally:
        proxy.stop()
