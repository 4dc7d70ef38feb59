"""The pattern catalog: parameters, defaults and what each pattern derives."""

import pytest

from composer.domain.edits import add_helper
from composer.domain.model import Composition
from composer.domain.patterns import CATALOG, UnknownPattern, get_pattern, patterns_by_role
from composer.domain.patterns.base import Param, ParamKind
from composer.domain.render import Placement, build


def test_catalog_covers_every_role_the_brief_names():
    ids = set(CATALOG)
    assert {"file-writer", "config-merger", "git-clone", "wait-for", "sysctl", "secret-fetcher", "migrations"} <= ids
    assert {"log-tailer", "log-shipper", "file-sync", "config-reloader", "local-cache", "debug-shell"} <= ids
    assert {"port-remapper", "tls-terminator", "egress-proxy", "db-proxy"} <= ids
    assert {"prometheus-exporter", "health-endpoint", "metrics-endpoint", "log-normaliser", "custom"} <= ids
    roles = {role for role, _title, patterns in patterns_by_role() if patterns}
    assert {str(r) for r in roles} == {"init", "sidecar", "ambassador", "adapter", "custom"}


@pytest.mark.parametrize("pattern", CATALOG.values(), ids=lambda p: p.id)
def test_every_pattern_is_documented_and_its_defaults_are_valid(pattern):
    assert pattern.title and pattern.summary
    for param in pattern.params:
        assert param.label, f"{pattern.id}.{param.name} has no label"
    cleaned, errors = pattern.clean_params({})
    assert errors == {}
    described = pattern.as_dict()
    assert [p["name"] for p in described["params"]] == [p.name for p in pattern.params]


@pytest.mark.parametrize("pattern", CATALOG.values(), ids=lambda p: p.id)
def test_every_pattern_renders_a_named_container_with_an_image(pattern):
    composition = Composition()
    add_helper(composition, pattern.id)
    rendering = build(composition)
    item = rendering.helpers[0]
    assert item.container["name"] and item.container["image"]
    expected = Placement.INIT if item.contribution.init else Placement.CONTAINER
    assert item.placement == expected


def test_unknown_pattern_and_unknown_param_are_reported():
    with pytest.raises(UnknownPattern, match="unknown pattern 'nope'"):
        get_pattern("nope")
    _cleaned, errors = CATALOG["log-tailer"].clean_params({"colour": "blue", "log_dir": "relative/path"})
    assert errors == {"colour": "unknown parameter", "log_dir": "an absolute path starting with /"}


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        (ParamKind.INT, "42", 42),
        (ParamKind.PORT, 8080, 8080),
        (ParamKind.BOOL, "on", True),
        (ParamKind.BOOL, "", False),
        (ParamKind.LIST, "a\n\n b \n", ["a", "b"]),
        (ParamKind.MAP, "A=1\nb.c = two words", {"A": "1", "b.c": "two words"}),
        (ParamKind.PATH, "/var/log/", "/var/log"),
        (ParamKind.NAME, " log-tailer ", "log-tailer"),
    ],
)
def test_form_values_are_coerced_to_their_type(kind, raw, expected):
    assert Param("p", "P", kind, None).clean(raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        (ParamKind.PORT, 70000, "from 1 to 65535"),
        (ParamKind.PORT, "eighty", "whole number"),
        (ParamKind.MAP, "novalue", "line 1: write KEY=VALUE"),
        (ParamKind.NAME, "Log_Tailer", "lower-case"),
        (ParamKind.IMAGE, "busy box", "without spaces"),
        (ParamKind.STRING, "two\nlines", "single line"),
        (ParamKind.STRING, "", "required"),
    ],
)
def test_bad_values_get_a_message_a_user_understands(kind, raw, message):
    with pytest.raises(ValueError, match=message):
        Param("p", "P", kind, None).clean(raw)


def test_log_tailer_shares_a_volume_read_only():
    composition = Composition()
    add_helper(composition, "log-tailer", {"log_dir": "/logs"})
    spec = build(composition).pod_spec
    app, tailer = spec["containers"]
    assert {"name": "logs", "emptyDir": {}} in spec["volumes"]
    assert {"name": "logs", "mountPath": "/logs"} in app["volumeMounts"]
    assert tailer["volumeMounts"] == [{"name": "logs", "mountPath": "/logs", "readOnly": True}]
    assert tailer["command"] == ["tail", "-n+1", "-F", "/logs/app.log"]


def test_config_merger_keeps_its_env_on_the_init_container_only():
    composition = Composition()
    add_helper(composition, "config-merger", {"overrides": {"db.host": "postgres"}})
    rendering = build(composition)
    init = rendering.init_containers()[0]
    assert init["env"] == [{"name": "OVERRIDE_DB_HOST", "value": "postgres"}]
    assert "env" not in rendering.containers()[0]
    assert {"name": "config-out", "mountPath": "/config", "readOnly": True} in rendering.containers()[0]["volumeMounts"]
    assert [m["kind"] for m in rendering.manifests] == ["ConfigMap", "Pod"]


def test_exporter_adds_its_named_port_to_the_service():
    composition = Composition()
    composition.options.service.enabled = True
    composition.options.service.ports = [{"name": "http", "port": 9200, "targetPort": 9200}]
    add_helper(composition, "prometheus-exporter")
    service = build(composition).manifests[0]
    assert service["kind"] == "Service"
    assert service["spec"]["ports"][1] == {"name": "http-prometheus", "port": 9114, "targetPort": "http-prometheus"}


def test_egress_proxy_points_the_app_at_localhost():
    composition = Composition()
    add_helper(composition, "egress-proxy", {"listen_port": 3128})
    app = build(composition).containers()[0]
    assert {"name": "http_proxy", "value": "http://localhost:3128"} in app["env"]


def test_file_writer_can_become_the_app_command():
    composition = Composition()
    add_helper(composition, "file-writer", {"use_as_app_command": True, "app_mount_path": "/opt/init"})
    assert build(composition).containers()[0]["command"] == ["/opt/init/startup.sh"]


def test_native_sidecar_runs_as_an_init_container_with_restart_policy_always():
    composition = Composition()
    helper = add_helper(composition, "log-tailer")
    helper.native_sidecar = True
    spec = build(composition).pod_spec
    assert spec["initContainers"][0]["restartPolicy"] == "Always"
    assert [c["name"] for c in spec["containers"]] == ["app"]
