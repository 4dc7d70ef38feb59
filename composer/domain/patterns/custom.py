"""The custom pattern: any raw container spec, in the role the user chooses."""

from __future__ import annotations

import copy

from composer.domain.patterns.base import BuildContext, Contribution, Param, ParamKind, Pattern, Role

CUSTOM_ROLES = ("init", "sidecar", "ambassador", "adapter")


def _custom(ctx: BuildContext) -> Contribution:
    container = copy.deepcopy(ctx.params["container"])
    return Contribution(container=container, init=ctx.params["role"] == "init")


CUSTOM = Pattern(
    id="custom",
    role=Role.CUSTOM,
    title="Custom container",
    summary="Any container spec you write yourself, as an init container, sidecar, ambassador or adapter.",
    params=(
        Param("role", "Role", ParamKind.CHOICE, "sidecar", choices=CUSTOM_ROLES),
        Param(
            "container",
            "Container spec",
            ParamKind.CONTAINER,
            {"name": "helper", "image": "busybox:1.36", "command": ["sh", "-c", "sleep infinity"]},
            "A Kubernetes container object (name and image at least).",
        ),
    ),
    build=_custom,
)
