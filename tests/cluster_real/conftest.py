# The real control plane's fixtures, for this directory only (tests/conftest.py does not load them).
from tests.support.controlplane_fixtures import (  # noqa: F401
    admin_api,
    cluster_namespace,
    control_plane,
    control_plane_uncached,
    limited_api,
)
