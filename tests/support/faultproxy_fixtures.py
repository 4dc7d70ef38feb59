"""The fault-injecting proxy in front of the real control plane (a pytest plugin, see tests/conftest.py).

- ``fault_proxy`` (per test): a started ``FaultProxy`` (tests/support/faultproxy.py) in front of
  the session's ``control_plane``, stopped after the test (its open streams end). Its kubeconfig
  (``fault_proxy.kubeconfig``) has one context, ``faulty``; ``KUBECONFIG`` is not set: a test
  that deploys through it sets it (``monkeypatch.setenv("KUBECONFIG", str(fault_proxy.kubeconfig))``).
  Skips, like ``control_plane``, where the control plane cannot run.
- ``proxied_target``: Pod Studio deploying through it: ``KUBECONFIG`` is the proxy's, context
  ``faulty``, a fresh namespace (``real_target``'s). A ``ProxiedTarget``: a ``RealTarget`` with
  ``proxy``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.controlplane_fixtures import RealTarget


@pytest.fixture
def fault_proxy(control_plane, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    from tests.support.faultproxy import FaultProxy  # imports controlplane (and its yaml) only when used

    proxy = FaultProxy(control_plane, tmp_path_factory.mktemp("faultproxy", numbered=True)).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@dataclass(frozen=True)
class ProxiedTarget(RealTarget):
    proxy: Any = None  # FaultProxy


@pytest.fixture
def proxied_target(fault_proxy, real_target: RealTarget, monkeypatch) -> ProxiedTarget:
    from tests.support.faultproxy import FAULTY_CONTEXT

    fault_proxy.write_kubeconfig(fault_proxy.kubeconfig, namespace=real_target.namespace)
    monkeypatch.setenv("KUBECONFIG", str(fault_proxy.kubeconfig))
    return ProxiedTarget(fault_proxy.kubeconfig, FAULTY_CONTEXT, real_target.namespace, real_target.admin,
                         fault_proxy)
