"""The security review's attacks of bench/security.py: each refused as expected, with no request to the cluster.

`python -m bench.reliability` measures the same cases into docs/reliability.md; here they are asserted, against
the session's real control plane (a fresh namespace and a fault proxy counting the requests, per case).
"""

from __future__ import annotations

import pytest

from bench import security


@pytest.mark.parametrize("case", security.CASES, ids=[case.id for case in security.CASES])
def test_security_case(client, db, control_plane, case):
    with security.team_mode_on(control_plane) as cluster:
        seen = security.run(client, cluster, case)
    assert seen.status == case.status, seen.message
    assert case.message in seen.message
    assert seen.cluster_requests == 0
