"""Bounds on what comes from outside (security review, December): port numbers in their range, no NUL
anywhere and no control characters in names (composer.domain.shapes, composer.domain.characters and
the model parse that uses them)."""

from __future__ import annotations

import pytest

from composer.domain.characters import composition_character_problems, nul_problems
from composer.domain.model import Composition, CompositionError
from composer.domain.patterns import CATALOG
from composer.domain.shapes import container_problems, service_port_problems

HUGE = 99999999999999999999


# --------------------------------------------------------------------------- ports


@pytest.mark.parametrize(
    ("port", "problem"),
    [
        ({"containerPort": HUGE}, "c.ports[0].containerPort must be a port number from 1 to 65535 (found a number "
                                  "of about 20 digits)"),
        ({"containerPort": 0}, "c.ports[0].containerPort must be a port number from 1 to 65535 (found 0)"),
        ({"containerPort": 65536}, "c.ports[0].containerPort must be a port number from 1 to 65535 (found 65536)"),
        ({"containerPort": 80, "hostPort": 70000}, "c.ports[0].hostPort must be a port number from 1 to 65535 or 0 "
                                                   "for none (found 70000)"),
        ({"containerPort": 80, "hostPort": -1}, "c.ports[0].hostPort must be a port number"),
        ({"containerPort": 80, "hostPort": "80"}, "c.ports[0].hostPort must be a number"),
    ],
)
def test_container_ports_outside_1_to_65535_are_refused_by_name(port, problem):
    [found] = container_problems({"name": "c", "ports": [port]}, "c")
    assert found.startswith(problem)


@pytest.mark.parametrize("port", [{"containerPort": 1}, {"containerPort": 65535, "hostPort": 65535},
                                  {"containerPort": 80, "hostPort": 0}, {"containerPort": 80, "hostPort": None}])
def test_container_ports_in_range_are_fine(port):
    assert container_problems({"name": "c", "ports": [port]}, "c") == []


@pytest.mark.parametrize(
    ("port", "problem"),
    [
        ({"port": HUGE}, "s[0].port must be a port number from 1 to 65535"),
        ({"port": 0}, "s[0].port must be a port number from 1 to 65535 (found 0)"),
        ({"port": 80, "targetPort": 10**30}, "s[0].targetPort must be a port number from 1 to 65535 or 0"),
        ({"port": 80, "targetPort": -5}, "s[0].targetPort must be a port number"),
        ({"port": 80, "nodePort": 65536}, "s[0].nodePort must be a port number from 1 to 65535 or 0 for none"),
        ({"port": 80, "nodePort": "30080"}, "s[0].nodePort must be a number"),
    ],
)
def test_service_ports_outside_1_to_65535_are_refused_by_name(port, problem):
    [found] = service_port_problems([port], "s")
    assert found.startswith(problem)


@pytest.mark.parametrize("port", [{"port": 80, "targetPort": "http"}, {"port": 80, "targetPort": 0},
                                  {"port": 443, "targetPort": 8443, "nodePort": 30443}, {"port": 80, "nodePort": 0}])
def test_service_ports_in_range_are_fine(port):
    assert service_port_problems([port], "s") == []


def test_the_api_model_names_the_port_field():
    with pytest.raises(CompositionError) as refused:
        Composition.from_dict({"app": {"ports": [{"containerPort": HUGE}]}})
    assert refused.value.errors["app.ports[0].containerPort"].startswith("must be a port number from 1 to 65535")


# --------------------------------------------------------------------------- NUL and control characters


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"app": {"env": [{"name": "A", "value": "a\x00b"}]}}, "app.env[0].value"),
        ({"workload": {"annotations": {"note": "x\x00"}}}, "workload.annotations.note"),
        ({"app": {"extra": {"workingDir": "/srv\x00"}}}, "app.extra.workingDir"),
        ({"app": {"command": ["sh", "-c", "echo \x00"]}}, "app.command[2]"),
        ({"options": {"extra": {"nodeSelector": {"k\x00": "v"}}}}, "options.extra.nodeSelector.k\\u0000"),
    ],
)
def test_nul_anywhere_is_refused_naming_the_field(data, field):
    with pytest.raises(CompositionError) as refused:
        Composition.from_dict(data)
    assert "NUL" in refused.value.errors[field]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"workload": {"name": "web\n"}}, "workload.name"),
        ({"workload": {"name": "web\x7f"}}, "workload.name"),
        ({"workload": {"namespace": "shop\n"}}, "workload.namespace"),
        ({"workload": {"labels": {"app\n": "web"}}}, "workload.labels.app\\u000a"),
        ({"workload": {"labels": {"app": "web\n"}}}, "workload.labels.app"),
        ({"app": {"name": "app\n"}}, "app.name"),
        ({"app": {"env": [{"name": "MODE\t", "value": "x"}]}}, "app.env[0].name"),
        ({"helpers": [{"id": "h1\n", "pattern": "sysctl"}]}, "helpers[0].id"),
        ({"helpers": [{"pattern": "custom", "params": {"container": {"name": "side\r\n", "image": "busybox"}}}]},
         "helpers[0].params.container.name"),
        ({"options": {"volumes": [{"name": "data\n", "emptyDir": {}}]}}, "options.volumes[0].name"),
        ({"options": {"service": {"ports": [{"name": "http\x1b", "port": 80}]}}}, "options.service.ports[0].name"),
    ],
)
def test_control_characters_in_names_are_refused_naming_the_field(data, field):
    with pytest.raises(CompositionError) as refused:
        Composition.from_dict(data)
    assert "control characters" in refused.value.errors[field]


def test_free_text_keeps_its_tabs_and_line_breaks():
    data = {"app": {"env": [{"name": "SCRIPT", "value": "set -e\n\techo hi\r\n"}], "command": ["sh", "-c", "a\nb"]},
            "workload": {"annotations": {"note": "two\nlines"}}}
    assert composition_character_problems(data) == {}
    assert Composition.from_dict(data).app.env[0]["value"] == "set -e\n\techo hi\r\n"


def test_nul_problems_walk_deep_structures_without_recursion():
    deep: dict = {"leaf": "x\x00"}
    for _ in range(5_000):
        deep = {"d": deep}
    [(path, problem)] = nul_problems(deep).items()
    assert path.endswith(".d.leaf") and "NUL" in problem


def test_helper_parameters_refuse_nul():
    _cleaned, errors = CATALOG["log-tailer"].clean_params({"log_dir": "/var/log\x00"})
    assert "NUL" in errors["log_dir"]
    _cleaned, errors = CATALOG["custom"].clean_params(
        {"role": "sidecar", "container": {"name": "c", "image": "busybox", "args": ["a\x00"]}})
    assert "NUL" in errors["container"]
