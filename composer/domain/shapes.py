"""Shape checks for raw Kubernetes structures that arrive from outside (imports, custom containers, the API).

Everything downstream (render, lint, the picture, the forms) may then rely on a container
being a mapping with a string name, lists of mappings where Kubernetes has lists of objects,
and so on. Values are not validated here (the schema check does that); only shapes.
"""

from __future__ import annotations

from typing import Any

MAX_CONTAINERS = 64  # per Pod: far above any real Pod, far below what would make every page slow

CONTAINER_LISTS_OF_OBJECTS = ("env", "envFrom", "ports", "volumeMounts", "volumeDevices")
CONTAINER_LISTS_OF_STRINGS = ("command", "args")


def type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), f"a {type(value).__name__}"
    )


def list_of_mappings_problem(value: Any, where: str) -> str | None:
    if not isinstance(value, list):
        return f"{where} must be a list (found {type_name(value)})"
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            return f"{where}[{index}] must be a mapping (found {type_name(item)})"
    return None


MIN_PORT, MAX_PORT = 1, 65535


def _is_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def port_number_problem(value: Any, field: str, *, zero_means_none: bool = False) -> str | None:
    """A port number field out of range, named: Kubernetes refuses them (int32 underneath, 1-65535 for a port).

    With `zero_means_none` (hostPort, nodePort, a numeric targetPort) 0 is accepted, as Kubernetes
    reads it as "not set" (no host port, allocate a node port, the same as `port`)."""
    if not _is_number(value) or MIN_PORT <= value <= MAX_PORT or (zero_means_none and value == 0):
        return None
    # A huge number is not printed in full (nor converted: past 4,300 digits Python refuses to).
    shown = str(value) if value.bit_length() <= 64 else f"a number of about {int(value.bit_length() * 0.30103)} digits"
    unset = " or 0 for none" if zero_means_none else ""
    return f"{field} must be a port number from {MIN_PORT} to {MAX_PORT}{unset} (found {shown})"


def service_port_problems(ports: Any, where: str) -> list[str]:
    """Service ports: a list of mappings with a number `port` (1-65535), an optional string `name`, a
    `targetPort` that is a port number or a port name, and an optional number `nodePort`."""
    problem = list_of_mappings_problem(ports, where)
    if problem:
        return [problem]
    problems = []
    for index, port in enumerate(ports):
        number, name, target = port.get("port"), port.get("name"), port.get("targetPort")
        if not _is_number(number):
            problems.append(f"{where}[{index}].port must be a number")
        if name is not None and not isinstance(name, str):
            problems.append(f"{where}[{index}].name must be a string")
        if target is not None and (isinstance(target, bool) or not isinstance(target, int | str)):
            problems.append(f"{where}[{index}].targetPort must be a number or a port name")
        node_port = port.get("nodePort")
        if node_port is not None and not _is_number(node_port):
            problems.append(f"{where}[{index}].nodePort must be a number")
        for field, value, zero_means_none in (("port", number, False), ("targetPort", target, True),
                                              ("nodePort", node_port, True)):
            problem = port_number_problem(value, f"{where}[{index}].{field}", zero_means_none=zero_means_none)
            if problem:
                problems.append(problem)
    return problems


def container_problems(container: Any, where: str) -> list[str]:
    """What is wrong with the shape of one container spec, each message naming the field."""
    if not isinstance(container, dict):
        return [f"{where} must be a mapping (found {type_name(container)})"]
    problems = []
    if not isinstance(container.get("name"), str):
        problems.append(f"{where}.name must be a string (found {type_name(container.get('name'))})")
    if "image" in container and not isinstance(container["image"], str):
        problems.append(f"{where}.image must be a string (found {type_name(container['image'])})")
    for field in CONTAINER_LISTS_OF_STRINGS:
        value = container.get(field)
        if field in container and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            problems.append(f"{where}.{field} must be a list of strings (found {type_name(value)})")
    for field in CONTAINER_LISTS_OF_OBJECTS:
        if field in container:
            problem = list_of_mappings_problem(container[field], f"{where}.{field}")
            if problem:
                problems.append(problem)
    for index, item in enumerate(container.get("env") if isinstance(container.get("env"), list) else []):
        if isinstance(item, dict) and not isinstance(item.get("name"), str):
            problems.append(f"{where}.env[{index}].name must be a string")
    mounts = container.get("volumeMounts")
    for index, item in enumerate(mounts if isinstance(mounts, list) else []):
        named = isinstance(item, dict) and isinstance(item.get("name"), str)
        if isinstance(item, dict) and not (named and isinstance(item.get("mountPath"), str)):
            problems.append(f"{where}.volumeMounts[{index}] needs a name and a mountPath (strings)")
    for index, item in enumerate(container.get("ports") if isinstance(container.get("ports"), list) else []):
        if isinstance(item, dict):
            number, name, host_port = item.get("containerPort"), item.get("name"), item.get("hostPort")
            if not _is_number(number):
                problems.append(f"{where}.ports[{index}].containerPort must be a number")
            if name is not None and not isinstance(name, str):
                problems.append(f"{where}.ports[{index}].name must be a string")
            if host_port is not None and not _is_number(host_port):
                problems.append(f"{where}.ports[{index}].hostPort must be a number")
            for problem in (
                port_number_problem(number, f"{where}.ports[{index}].containerPort"),
                port_number_problem(host_port, f"{where}.ports[{index}].hostPort", zero_means_none=True),
            ):
                if problem:
                    problems.append(problem)
    for field in ("resources", "securityContext"):
        if field in container and not isinstance(container[field], dict):
            problems.append(f"{where}.{field} must be a mapping (found {type_name(container[field])})")
    return problems
