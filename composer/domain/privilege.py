"""Fields that give a Pod power over its node: what a deploy needs the "privileged" right for.

The list follows the Pod Security Standards' baseline profile: privileged containers, the host's
namespaces (hostPID, hostNetwork, hostIPC), host ports, hostPath volumes and capabilities
beyond the baseline's allowed set.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from composer.domain.podspecs import pod_specs

# Capabilities the baseline profile lets any Pod add.
BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})
HOST_NAMESPACES = ("hostPID", "hostNetwork", "hostIPC")
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def _container_escalations(container: dict[str, Any], where: str) -> Iterator[str]:
    context = container.get("securityContext") if isinstance(container.get("securityContext"), dict) else {}
    if context.get("privileged") is True:
        yield f"{where}.securityContext.privileged"
    capabilities = context.get("capabilities") if isinstance(context.get("capabilities"), dict) else {}
    added = capabilities.get("add") if isinstance(capabilities.get("add"), list) else []
    beyond = sorted(str(c) for c in added if str(c).upper().removeprefix("CAP_") not in BASELINE_CAPABILITIES)
    if beyond:
        yield f"{where}.securityContext.capabilities.add ({', '.join(beyond)})"
    ports = container.get("ports") if isinstance(container.get("ports"), list) else []
    for index, port in enumerate(ports):
        if isinstance(port, dict) and port.get("hostPort"):
            yield f"{where}.ports[{index}].hostPort"


def escalations(manifests: list[dict[str, Any]]) -> list[str]:
    """Every field that needs the privileged right, e.g. "Pod 'web': spec.hostPID"."""
    found = []
    for manifest in manifests:
        name = (manifest.get("metadata") or {}).get("name", "?")
        label = f"{manifest.get('kind', '?')} '{name}'"
        for path, spec in pod_specs(manifest):
            found.extend(f"{label}: {path}.{field}" for field in HOST_NAMESPACES if spec.get(field) is True)
            volumes = spec.get("volumes") if isinstance(spec.get("volumes"), list) else []
            found.extend(
                f"{label}: {path}.volumes[{index}].hostPath"
                for index, volume in enumerate(volumes)
                if isinstance(volume, dict) and volume.get("hostPath") is not None
            )
            for list_name in CONTAINER_LISTS:
                containers = spec.get(list_name) if isinstance(spec.get(list_name), list) else []
                for index, container in enumerate(containers):
                    if isinstance(container, dict):
                        where = f"{label}: {path}.{list_name}[{index}]"
                        found.extend(_container_escalations(container, where))
    return found
