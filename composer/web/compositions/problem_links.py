"""Which field of the composer page a problem is about, so its entry in Problems can lead there."""

from __future__ import annotations

import re

from composer.domain.problems import Problem
from composer.domain.render import Rendering

CONTAINER = re.compile(r"spec\.(initContainers|containers)\[(\d+)\](?:\.(\w+))?")
APP_FIELDS = {"ports": "app-ports", "volumeMounts": "app-mounts", "image": "app-image", "name": "app-name",
              "env": "app-env", "command": "app-command", "args": "app-args"}
POD_FIELDS = {"spec.selector": "pod-labels", "spec.shareProcessNamespace": "share_process_namespace",
              "spec.restartPolicy": "pod-kind", "spec.schedule": "pod-spec-schedule",
              "spec.serviceName": "pod-spec-serviceName", "metadata.name": "pod-name", "spec.replicas": "pod-replicas"}


def problem_field(problem: Problem, rendering: Rendering) -> str | None:
    """The id of the element to go to: an input where one is at fault, else the helper's card; None: nowhere."""
    where = problem.path.split(": ", 1)[-1]
    if where.startswith("helper "):
        helper_id = where.removeprefix("helper ").split()[0]
        if problem.code == "invalid-param":
            param = problem.message.split(": ", 2)[1] if problem.message.count(": ") >= 2 else ""
            return f"{helper_id}-{param}" if param else f"card-name-{helper_id}"
        return f"card-name-{helper_id}"
    if where.startswith("app env"):
        return "app-env"
    if problem.path.startswith("Service/"):
        return "service-ports" if "ports" in where else "service_enabled"
    found = CONTAINER.match(where)
    if found:
        return _container_field(rendering, found.group(1), int(found.group(2)), found.group(3))
    return next((field for prefix, field in POD_FIELDS.items() if where.startswith(prefix)), None)


def _container_field(rendering: Rendering, list_name: str, index: int, field: str | None) -> str | None:
    if list_name == "containers" and index == 0:
        return APP_FIELDS.get(field or "", "app-name")
    containers = rendering.init_containers() if list_name == "initContainers" else rendering.containers()
    if index >= len(containers):
        return None
    name = containers[index].get("name")
    placed = next((item for item in rendering.helpers if item.container_name == name), None)
    if placed is None:
        return None
    helper_id, params = placed.helper.id, {param.name for param in placed.pattern.params}
    if field == "ports":
        port_param = next((p for p in ("port", "listen_port") if p in params), None)
        if port_param:
            return f"{helper_id}-{port_param}"
    if field == "image" and "image" in params:
        return f"{helper_id}-image"
    return f"card-name-{helper_id}"
