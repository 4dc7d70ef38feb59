"""composer.domain.schema: validation against the Kubernetes JSON schemas."""

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from composer.domain import schema
from composer.domain.problems import Problem, Severity
from composer.domain.schema import (
    format_path,
    latest_version,
    resolve_version,
    supported_versions,
    validate_manifests,
)


def container(index=0):
    return {
        "name": f"c{index}",
        "image": "nginx:1.27",
        "command": ["sh", "-c", "exec nginx -g 'daemon off;'"],
        "ports": [{"name": f"http{index}", "containerPort": 8000 + index, "protocol": "TCP"}],
        "env": [
            {"name": "MODE", "value": "prod"},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "resources": {"requests": {"cpu": "100m", "memory": 64_000_000}, "limits": {"memory": "128Mi"}},
        "volumeMounts": [{"name": "shared", "mountPath": "/shared"}],
        "readinessProbe": {"httpGet": {"path": "/", "port": f"http{index}"}, "periodSeconds": 5},
    }


def pod(containers=2):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "initContainers": [
                {"name": "init", "image": "busybox:1.36", "command": ["true"]},
                {"name": "proxy", "image": "envoy:1.31", "restartPolicy": "Always"},
            ],
            "containers": [container(i) for i in range(containers)],
            "volumes": [{"name": "shared", "emptyDir": {}}],
            "shareProcessNamespace": True,
        },
    }


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod()["spec"]},
    },
}
SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web"},
    "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http0"}]},
}
CONFIG_MAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "web-config"},
    "data": {"nginx.conf": "events {}\nhttp { server { listen 80; } }\n"},
}


def errors(manifests, version=None):
    return [
        (p.path, p.message) for p in validate_manifests(manifests, version) if p.severity == Severity.ERROR
    ]


# --------------------------------------------------------------------------- valid input


@pytest.mark.parametrize("manifest", [pod(), DEPLOYMENT, SERVICE, CONFIG_MAP], ids=lambda m: m["kind"])
def test_valid_manifests_have_no_problems(manifest):
    assert validate_manifests([manifest]) == []


def test_all_together_and_on_the_first_version_with_native_sidecars():
    assert validate_manifests([pod(10), DEPLOYMENT, SERVICE, CONFIG_MAP], "1.29") == []


def test_validation_does_not_change_the_manifest():
    manifest = pod()
    before = copy.deepcopy(manifest)
    validate_manifests([manifest])
    assert manifest == before


# --------------------------------------------------------------------------- errors


def test_wrong_type_has_a_precise_path():
    manifest = pod()
    manifest["spec"]["containers"][0]["ports"][0]["containerPort"] = "eighty"
    assert validate_manifests([manifest]) == [
        Problem(
            Severity.ERROR,
            "schema",
            'expected integer, got string "eighty"',
            "Pod/web: spec.containers[0].ports[0].containerPort",
        )
    ]


INT32 = "from -2,147,483,648 to 2,147,483,647"
INT64 = "from -9,223,372,036,854,775,808 to 9,223,372,036,854,775,807"


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("spec", "containers", 0, "ports", 0, "containerPort"), 99999999999999999999,
         f"out of range for an int32 field: {INT32}, got integer 99999999999999999999"),
        (("spec", "containers", 0, "ports", 0, "containerPort"), 2**31,
         f"out of range for an int32 field: {INT32}, got integer 2147483648"),
        (("spec", "containers", 0, "ports", 0, "containerPort"), 3e9,
         f"out of range for an int32 field: {INT32}, got number 3000000000.0"),
        (("spec", "containers", 0, "readinessProbe", "periodSeconds"), -(2**31) - 1,
         f"out of range for an int32 field: {INT32}, got integer -2147483649"),
        (("spec", "terminationGracePeriodSeconds"), 2**63, f"out of range for an int64 field: {INT64}, "
         "got integer 9223372036854775808"),
        (("spec", "activeDeadlineSeconds"), 10**4000, "out of range for an int64 field"),
    ],
    ids=["20-digit-port", "int32-max+1", "float", "int32-min-1", "int64-max+1", "4000-digits"],
)
def test_integers_outside_their_format_are_problems_at_the_field(path, value, problem):
    manifest = pod()
    parent = manifest
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    [(where, message)] = errors([manifest])
    assert where == "Pod/web: " + format_path(path)
    assert message.startswith(problem)


def test_integers_at_the_edges_of_their_format_are_fine():
    manifest = pod()
    manifest["spec"]["containers"][0]["readinessProbe"]["periodSeconds"] = 2**31 - 1
    manifest["spec"]["terminationGracePeriodSeconds"] = 2**63 - 1
    manifest["spec"]["activeDeadlineSeconds"] = -(2**63)
    assert errors([manifest]) == []


def test_jsonschema_reports_the_integer_formats_too():
    manifest = pod()
    manifest["spec"]["containers"][0]["ports"][0]["containerPort"] = 2**40
    directory = schema._select(None)[1]
    reference = schema._jsonschema_validator(directory, "pod-v1.json")
    assert _error_keys(reference, manifest) == [(("spec", "containers", "0", "ports", "0", "containerPort"), "format")]
    assert _error_keys(schema._validator(directory, "pod-v1.json"), manifest) == _error_keys(reference, manifest)


def test_missing_required_field_points_at_the_field():
    manifest = pod()
    del manifest["spec"]["containers"][1]["name"]
    assert errors([manifest]) == [("Pod/web: spec.containers[1].name", 'missing required field "name"')]


def test_unknown_field_points_at_the_field():
    manifest = pod()
    manifest["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    manifest["spec"]["initContainers"][1]["restartPolicy"] = "Always"  # known since 1.28
    assert errors([manifest]) == [
        ("Pod/web: spec.containers[0].imagePullPolicyy", 'unknown field "imagePullPolicyy"')
    ]


def test_several_errors_are_all_reported_in_document_order():
    manifest = pod()
    manifest["spec"]["containers"][1]["ports"][0] = {"name": "x", "containerPort": 80, "bogus": 1}
    manifest["spec"]["containers"][0]["resources"]["limits"]["memory"] = [1]
    manifest["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] = 1.5
    manifest["spec"]["containers"][0]["env"][0] = {}
    manifest["extra"] = True
    assert errors([manifest]) == [
        ("Pod/web: extra", 'unknown field "extra"'),
        ("Pod/web: spec.containers[0].env[0].name", 'missing required field "name"'),
        (
            "Pod/web: spec.containers[0].readinessProbe.httpGet.port",
            "expected string or integer, got number 1.5",
        ),
        ("Pod/web: spec.containers[0].resources.limits.memory", "expected string or number, got array [1]"),
        ("Pod/web: spec.containers[1].ports[0].bogus", 'unknown field "bogus"'),
    ]


def test_two_missing_fields_give_two_problems():
    manifest = pod()
    manifest["spec"]["volumes"][0] = {"emptyDir": {}}
    manifest["spec"]["containers"][0]["volumeMounts"][0] = {}
    assert errors([manifest]) == [
        ("Pod/web: spec.containers[0].volumeMounts[0].name", 'missing required field "name"'),
        ("Pod/web: spec.containers[0].volumeMounts[0].mountPath", 'missing required field "mountPath"'),
        ("Pod/web: spec.volumes[0].name", 'missing required field "name"'),
    ]


def test_wrong_kind_value_and_apiversion():
    manifest = {**SERVICE, "apiVersion": "v1", "kind": "Service", "spec": {"ports": "80"}}
    assert errors([manifest]) == [("Service/web: spec.ports", 'expected array, got string "80"')]


def test_deployment_paths_reach_into_the_template():
    manifest = copy.deepcopy(DEPLOYMENT)
    manifest["spec"]["template"]["spec"]["containers"][0]["image"] = 1.27
    del manifest["spec"]["selector"]
    assert errors([manifest]) == [
        ("Deployment/web: spec.selector", 'missing required field "selector"'),
        ("Deployment/web: spec.template.spec.containers[0].image", "expected string, got number 1.27"),
    ]


def test_manifests_without_kind_or_name():
    problems = validate_manifests(
        [{"metadata": {"name": "x"}}, {"apiVersion": "v1", "kind": "ConfigMap"}, 42]
    )
    assert [(p.severity, p.path, p.message) for p in problems] == [
        (Severity.ERROR, "manifest 1: apiVersion", 'missing required field "apiVersion"'),
        (Severity.ERROR, "manifest 1: kind", 'missing required field "kind"'),
        (Severity.ERROR, "manifest 3", "A manifest must be a mapping."),
    ]


def test_unknown_kinds_are_warnings():
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"x": 1}}
    assert validate_manifests([widget, SERVICE]) == [
        Problem(
            Severity.WARNING,
            "schema-unknown-kind",
            "No schema for Widget (example.com/v1): it was not checked.",
            "Widget/w",
        )
    ]


@pytest.mark.parametrize("kind", ["../v1.25.0-local/pod", "Pod/../../x", "pod-v1.json", ""])
def test_kinds_cannot_name_other_files(kind):
    problems = validate_manifests([{"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}}])
    assert len(problems) == 1 and problems[0].severity in (Severity.WARNING, Severity.ERROR)


# --------------------------------------------------------------------------- versions


def test_supported_versions():
    versions = supported_versions()
    assert versions[0] == "1.25" and versions[-1] == latest_version() == "1.37"
    assert versions == sorted(versions, key=lambda v: tuple(map(int, v.split("."))))


@pytest.mark.parametrize(
    ("given", "used"),
    [
        (None, "1.37"),
        ("1.33", "1.33"),
        ("1.33.0", "1.33"),
        ("v1.33.4", "1.33"),
        ("v1.30.4+k3s1", "1.30"),
        ("1.29.6-gke.1038001", "1.29"),
        ("1.40", "1.37"),  # newer than any shipped: the newest
        ("1.9", "1.25"),  # older than any shipped: the oldest (and not "1.9" > "1.37" as strings)
    ],
)
def test_version_selection(given, used):
    assert resolve_version(given) == used


@pytest.mark.parametrize("bad", ["latest", "1", "", "one.two"])
def test_bad_versions_are_rejected(bad):
    with pytest.raises(ValueError, match="not a Kubernetes version"):
        validate_manifests([SERVICE], bad)


def test_a_version_outside_the_shipped_range_is_noted():
    assert validate_manifests([SERVICE], "1.99") == [
        Problem(Severity.INFO, "schema-version", "No schemas for Kubernetes 1.99; validated against 1.37.")
    ]
    assert validate_manifests([SERVICE], "1.30.2") == []


def test_the_version_changes_the_verdict():
    # Pod.spec.resources (Pod-level resources) appeared in the 1.32 schemas.
    manifest = pod()
    manifest["spec"]["resources"] = {"limits": {"cpu": "1"}}
    assert errors([manifest], "1.31") == [("Pod/web: spec.resources", 'unknown field "resources"')]
    assert errors([manifest], "1.32") == []


def test_native_sidecars_are_unknown_to_old_schemas():
    assert errors([pod()], "1.27") == [
        ("Pod/web: spec.initContainers[1].restartPolicy", 'unknown field "restartPolicy"')
    ]


def test_format_path():
    assert format_path(["spec", "containers", 0, "ports", 1, "name"]) == "spec.containers[0].ports[1].name"
    assert format_path([]) == ""
    assert format_path([0, "a"]) == "[0].a"


# --------------------------------------------------------------------------- caching


def test_schemas_and_validators_are_built_once():
    validate_manifests([pod(), DEPLOYMENT])
    directory = schema._select(None)[1]
    loads = schema._load_json.cache_info().misses
    builds = schema._validator.cache_info().misses
    for _ in range(3):
        validate_manifests([pod(), DEPLOYMENT, SERVICE, CONFIG_MAP])
    validate_manifests([SERVICE, CONFIG_MAP])
    after_first_use = (schema._load_json.cache_info().misses, schema._validator.cache_info().misses)
    validate_manifests([pod(), DEPLOYMENT, SERVICE, CONFIG_MAP])
    assert (schema._load_json.cache_info().misses, schema._validator.cache_info().misses) == after_first_use
    assert after_first_use[0] - loads <= 2 and after_first_use[1] - builds <= 2
    assert schema._validator(directory, "pod-v1.json") is schema._validator(directory, "pod-v1.json")


def test_every_shipped_schema_compiles():
    """The compiled validators cover every keyword every shipped schema uses."""
    directory = schema._select(None)[1]
    for name in sorted(schema._schema_files(directory)):
        if name.startswith("_") or name == "all.json":
            continue
        assert isinstance(schema._validator(directory, name), schema._CompiledValidator), name


# --------------------------------------------------------------------------- compiled == jsonschema


def _error_keys(validator, manifest):
    return sorted(
        (tuple(map(str, error.absolute_path)), error.validator) for error in validator.iter_errors(manifest)
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _mutate(manifest, path, action, value, key):
    result = copy.deepcopy(manifest)
    if not path:
        return result
    parent = result
    for step in path[:-1]:
        parent = parent[step]
    if action == "replace":
        parent[path[-1]] = value
    elif action == "delete":
        del parent[path[-1]]
    elif isinstance(parent[path[-1]], dict):
        parent[path[-1]][key] = value
    return result


BASES = [pod(), DEPLOYMENT, SERVICE, CONFIG_MAP]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(BASES),
    data=st.data(),
    action=st.sampled_from(["replace", "delete", "add"]),
    value=json_values,
    key=st.sampled_from(["name", "image", "bogus", "port", "containers", "ports", "x"]),
)
def test_compiled_validators_agree_with_jsonschema(base, data, action, value, key):
    path = data.draw(st.sampled_from(list(_paths(base))))
    manifest = _mutate(base, path, action, value, key)
    directory = schema._select(None)[1]
    filename = schema._schema_filename(base["apiVersion"], base["kind"])
    compiled = schema._validator(directory, filename)
    reference = schema._jsonschema_validator(directory, filename)
    assert isinstance(compiled, schema._CompiledValidator)
    assert _error_keys(compiled, manifest) == _error_keys(reference, manifest)


# --------------------------------------------------------------------------- the compiler itself


def test_compiler_handles_recursive_definitions():
    definitions = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {"child": {"$ref": "#/$defs/node"}, "v": {"type": "integer"}},
                "additionalProperties": False,
            }
        }
    }
    compiler = schema._Compiler({"https://x/defs": definitions})
    check = compiler.compile({"$ref": "https://x/defs#/$defs/node"}, "")
    found = []
    check({"child": {"child": {"v": "x", "w": 1}}}, (), found)
    assert [(e.absolute_path, e.validator) for e in found] == [
        (("child", "child", "v"), "type"),
        (("child", "child"), "additionalProperties"),
    ]


def test_compiler_refuses_keywords_it_does_not_know_and_keeps_no_half_built_checks():
    definitions = {"$defs": {"a": {"type": "string", "pattern": "^x"}}}
    compiler = schema._Compiler({"https://x/defs": definitions})
    with pytest.raises(schema._Unsupported, match="pattern"):
        compiler.compile({"properties": {"a": {"$ref": "https://x/defs#/$defs/a"}}}, "")
    assert compiler._refs == {}


def test_schemas_the_compiler_cannot_handle_fall_back_to_jsonschema(monkeypatch):
    def unsupported(self, schema_, base):
        raise schema._Unsupported("test")

    monkeypatch.setattr(schema._Compiler, "compile", unsupported)
    directory = schema._select(None)[1]
    validator = schema._validator.__wrapped__(directory, "pod-v1.json")
    assert validator is schema._jsonschema_validator(directory, "pod-v1.json")
    manifest = pod()
    manifest["spec"]["containers"][0]["ports"][0]["containerPort"] = "eighty"
    errors_found = list(validator.iter_errors(manifest))
    assert [(list(e.absolute_path), e.validator) for e in errors_found] == [
        (["spec", "containers", 0, "ports", 0, "containerPort"], "type")
    ]


def test_container_fields_come_from_the_container_schema_of_a_version():
    newest = schema.container_fields()
    assert {"name", "image", "resources", "securityContext", "livenessProbe", "imagePullPolicy"} <= newest
    assert "colour" not in newest and "restartPolicy" in newest
    assert schema.container_fields("1.25") < newest  # restartPolicy came with native sidecars (1.28)
    assert "restartPolicy" not in schema.container_fields("1.25")
