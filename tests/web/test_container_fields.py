"""The container editor's text: fields.py's line syntaxes (env, envFrom, ports, mounts, arguments) and
containers.py's split of a container into inputs and Other fields, each read back exactly as shown."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from composer.domain.podspecs import pod_specs
from composer.domain.yamlio import load_documents
from composer.web.compositions import fields
from composer.web.compositions.containers import ContainerEditor, edit_container, other_fields_text, split
from composer.web.compositions.fields import FormErrors

CORPUS = Path(__file__).parents[1] / "corpus"

ENV = [
    {"name": "MODE", "value": "prod"},
    {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
    {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "log.level"}}},
    {"name": "LOOKS_LIKE", "value": "secret:not/a-reference"},
    {"name": "ESCAPED", "value": "literal:as written"},
    {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
    {"name": "OPTIONAL", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": True}}},
    {"name": "SCRIPT", "value": "line one\nline two"},
    {"name": "PADDED", "value": "  x "},
    {"name": "EMPTY", "value": ""},
    {"name": "A=B", "value": "c"},
]


def test_env_syntax_says_each_entry_and_reads_back_the_same():
    text = fields.format_env(ENV)
    assert text.splitlines()[:6] == [
        "MODE=prod", "PASSWORD=secret:db/password", "LEVEL=configmap:app-config/log.level",
        "LOOKS_LIKE=literal:secret:not/a-reference", "ESCAPED=literal:literal:as written",
        "{name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}",
    ]
    assert fields.parse_env(text, ENV) == ENV  # shown lines keep their entries
    assert fields.parse_env(text, []) == ENV  # and read the same as new ones


def test_new_env_lines():
    assert fields.parse_env("TOKEN=secret:api/token\nCM=configmap:cfg/mode\nURL=https://x/y\nL=literal:secret:a/b",
                            []) == [
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}},
        {"name": "CM", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}},
        {"name": "URL", "value": "https://x/y"},
        {"name": "L", "value": "secret:a/b"},
    ]


@pytest.mark.parametrize("text, message", [
    ("NO_EQUALS", "line 1: write KEY=VALUE, KEY=secret:NAME/KEY or KEY=configmap:NAME/KEY"),
    ("A=secret:Bad_Name/key", "line 1: secret:Bad_Name/key reads as a Secret value (its name: lower-case"),
    ("A=configmap:cfg/k y", None),  # a space: not a reference, a value
    ("A=1\nB=configmap:cfg/a:b", "line 2: configmap:cfg/a:b reads as a ConfigMap value (its key 'a:b' may have"),
    ("{name: [x", "line 1: "),
    ("[a, b]", "line 1: write KEY=VALUE"),
])
def test_bad_env_lines_say_which_and_why(text, message):
    if message is None:
        assert fields.parse_env(text, []) == [{"name": "A", "value": "configmap:cfg/k y"}]
        return
    with pytest.raises(ValueError) as raised:
        fields.parse_env(text, [])
    assert str(raised.value).startswith(message)


def test_env_from_lines():
    entries = [{"configMapRef": {"name": "cfg"}}, {"prefix": "DB_", "secretRef": {"name": "db"}},
               {"secretRef": {"name": "maybe", "optional": True}}]
    text = fields.format_env_from(entries)
    assert text == "configmap:cfg\nsecret:db prefix=DB_\n{secretRef: {name: maybe, optional: true}}"
    assert fields.parse_env_from(text, []) == entries
    with pytest.raises(ValueError, match="line 1: write 'configmap:NAME' or 'secret:NAME'"):
        fields.parse_env_from("vault:x", [])


def test_ports_and_mounts_the_lines_cannot_say_are_flow_yaml_lines():
    ports = [{"name": "http", "containerPort": 80}, {"containerPort": 53, "protocol": "UDP"},
             {"containerPort": 8080, "hostPort": 80}]
    assert fields.format_ports(ports) == "http 80\n53 UDP\n{containerPort: 8080, hostPort: 80}"
    assert fields.parse_ports(fields.format_ports(ports), []) == ports
    mounts = [{"name": "data", "mountPath": "/data", "readOnly": True},
              {"name": "config", "mountPath": "/etc/app.conf", "subPath": "app.conf"}]
    text = fields.format_mounts(mounts)
    assert text == "data /data ro\n{name: config, mountPath: /etc/app.conf, subPath: app.conf}"
    assert fields.parse_mounts(text, []) == mounts


def test_arguments_the_lines_cannot_hold_are_a_yaml_list():
    script = ["sh", "-c", "echo one\necho two"]
    text = fields.format_arguments(script)
    assert text == "- sh\n- -c\n- |-\n  echo one\n  echo two"
    assert fields.parse_arguments(text) == script
    assert fields.format_arguments(["nginx", "-g", "daemon off;"]) == "nginx\n-g\ndaemon off;"
    assert fields.parse_arguments("nginx\n-g\ndaemon off;") == ["nginx", "-g", "daemon off;"]
    assert fields.parse_arguments(fields.format_arguments(["- x", ""])) == ["- x", ""]
    with pytest.raises(ValueError, match="each one text"):
        fields.parse_arguments("- [1, 2]")


IMPORTED = {
    "name": "redis", "image": "redis:7", "ports": [{"containerPort": 6379}],
    "readinessProbe": {"periodSeconds": 5, "tcpSocket": {"port": 6379}},
    "livenessProbe": {"httpGet": {"path": "/h", "port": "http", "scheme": "HTTPS"}, "successThreshold": 1},
    "resources": {"limits": {"memory": "256Mi", "cpu": 1}, "requests": {"cpu": "70m", "ephemeral-storage": "1Gi"}},
    "securityContext": {"capabilities": {"drop": ["ALL"]}, "privileged": False,
                        "seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}},
    "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
    "imagePullPolicy": "sometimes",  # not a choice: it stays in Other fields (and lint says why it is wrong)
    "workingDir": "/w",
}


def shown(container):
    """What the page posts for a container it shows and nobody changed."""
    parts = split(container)
    return {**parts.texts(), "other_fields": other_fields_text(parts.rest), "name": container["name"],
            "image": container["image"], "ports": fields.format_ports(container.get("ports", []))}


def test_a_container_splits_into_the_inputs_and_other_fields():
    parts = split(IMPORTED)
    assert parts.values == {
        "requests-cpu": "70m", "limits-cpu": 1, "limits-memory": "256Mi", "sc-privileged": False,
        "sc-drop": ["ALL"], "sc-seccomp": "Localhost", "readinessProbe-handler": "tcpSocket",
        "readinessProbe-port": 6379, "readinessProbe-periodSeconds": 5, "livenessProbe-handler": "httpGet",
        "livenessProbe-path": "/h", "livenessProbe-port": "http", "preStop-handler": "sleep", "preStop-seconds": 5,
    }
    assert parts.rest == {
        "livenessProbe": {"httpGet": {"scheme": "HTTPS"}, "successThreshold": 1},
        "resources": {"requests": {"ephemeral-storage": "1Gi"}}, "securityContext": {
            "seccompProfile": {"localhostProfile": "p.json"}}, "imagePullPolicy": "sometimes", "workingDir": "/w",
    }


def test_a_form_posted_as_shown_gives_the_container_back_exactly():
    edited = edit_container(IMPORTED, shown(IMPORTED))
    assert edited == IMPORTED and list(edited) == list(IMPORTED)
    assert edited["resources"]["limits"]["cpu"] == 1  # not "1": the input was not changed


def test_a_probe_a_limit_and_a_hook_from_the_inputs():
    post = {**shown(IMPORTED), "readinessProbe-handler": "httpGet", "readinessProbe-path": "/ready",
            "readinessProbe-port": "6379", "limits-memory": "512Mi", "preStop-handler": "exec",
            "preStop-command": "nginx\n-s\nquit", "startupProbe-handler": "exec", "startupProbe-command": "true",
            "startupProbe-failureThreshold": "30", "livenessProbe-handler": ""}
    edited = edit_container(IMPORTED, post)
    assert edited["readinessProbe"] == {"periodSeconds": 5, "httpGet": {"path": "/ready", "port": 6379}}
    assert edited["resources"]["limits"] == {"memory": "512Mi", "cpu": 1}
    assert edited["lifecycle"] == {"preStop": {"exec": {"command": ["nginx", "-s", "quit"]}}}
    assert edited["startupProbe"] == {"exec": {"command": ["true"]}, "failureThreshold": 30}
    # "nothing" removes what the inputs showed; what Other fields still says of it stays there
    assert edited["livenessProbe"] == {"httpGet": {"scheme": "HTTPS"}, "successThreshold": 1}


@pytest.mark.parametrize("changes, errors", [
    ({"limits-memory": "5MB"}, {"limits-memory": "'5MB' is not a Kubernetes quantity: MB is not a unit"}),
    ({"requests-cpu": "2"}, {"requests-cpu": "more than its limit (1): the API server refuses a request above"}),
    ({"readinessProbe-port": "99999"}, {"readinessProbe-port": "99999 is not a port from 1 to 65535"}),
    ({"readinessProbe-port": "Web_Port"}, {"readinessProbe-port": "'Web_Port' is neither a port number nor"}),
    ({"readinessProbe-periodSeconds": "0"}, {"readinessProbe-periodSeconds": "a whole number of at least 1"}),
    ({"startupProbe-handler": "exec"}, {"startupProbe-command": "needed when it checks a command (exec)"}),
    ({"startupProbe-handler": "grpc", "startupProbe-port": "grpc"},
     {"startupProbe-port": "a gRPC check takes a port number"}),
    ({"sc-privileged": "true", "sc-allowPrivilegeEscalation": "false"},
     {"sc-allowPrivilegeEscalation": "a privileged container always may"}),
    ({"sc-drop": "ALL NET-RAW"}, {"sc-drop": "'NET-RAW' is not a capability name"}),
    ({"sc-runAsUser": "-1"}, {"sc-runAsUser": "a whole number of at least 0"}),
    ({"imagePullPolicy": "Sometimes"}, {"imagePullPolicy": "one of Always, IfNotPresent, Never, or not set"}),
    ({"other_fields": "image: x"}, {"other_fields": "image is the field Image above: set it there"}),
    ({"other_fields": "colour: blue"}, {"other_fields": "'colour' is not a field of a Kubernetes container"}),
    ({"other_fields": "- a"}, {"other_fields": "a mapping of container fields"}),
    ({"other_fields": "tty: [x"}, {"other_fields": "line 2, column 1: did not find expected ','"}),
    ({"other_fields": "readinessProbe:\n  tcpSocket:\n    port: 1\n"},
     {"other_fields": "readinessProbe.tcpSocket.port is set above too: set each field in one place"}),
    ({"other_fields": "securityContext: privileged"},
     {"other_fields": "securityContext must be a mapping (found a string)"}),
    ({"env": "A"}, {"env": "line 1: write KEY=VALUE"}),
])
def test_bad_input_is_a_message_beside_its_field(changes, errors):
    with pytest.raises(FormErrors) as raised:
        edit_container(IMPORTED, {**shown(IMPORTED), **changes})
    assert set(raised.value.errors) == set(errors)
    for name, message in errors.items():
        assert raised.value.errors[name].startswith(message), raised.value.errors[name]


def test_other_fields_may_take_what_the_inputs_leave_empty_and_remove_the_rest():
    post = {**shown(IMPORTED), "other_fields": "startupProbe:\n  grpc:\n    port: 9000\ntty: true\n"}
    edited = edit_container(IMPORTED, post)
    assert edited["startupProbe"] == {"grpc": {"port": 9000}} and edited["tty"] is True
    assert "workingDir" not in edited and edited["livenessProbe"] == {"httpGet": {"path": "/h", "port": "http"}}
    assert edited["resources"] == {"limits": {"memory": "256Mi", "cpu": 1}, "requests": {"cpu": "70m"}}


def test_a_problem_the_container_already_had_does_not_block_another_edit():
    container = {"name": "a", "image": "x:1", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}
    edited = edit_container(container, {**shown(container), "image": "x:2"})
    assert edited["image"] == "x:2" and edited["resources"] == container["resources"]


def as_the_page_posts_it(container):
    """Every field of the editor with the text the page shows for `container`."""
    editor = ContainerEditor(container, "c", "c")
    post = {view.name: view.text for view in editor.text_fields}
    post[editor.pull_policy.spec.name] = editor.pull_policy.text
    for section in editor.sections:
        for view in section.inputs:
            post[view.spec.name] = view.text
        for group in section.groups:
            post.update({view.spec.name: view.text for view in (group.handler, *group.inputs)})
    return {**post, "other_fields": editor.other_fields}


def corpus_containers():
    for path in sorted(CORPUS.glob("*.yaml")):
        for document in load_documents(path.read_text()):
            for _where, spec in pod_specs(document):
                for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
                    yield pytest.param(container, id=f"{path.stem}-{container.get('name')}")


@pytest.mark.parametrize("container", list(corpus_containers()))
def test_every_corpus_container_comes_back_exactly_from_the_form_as_shown(container):
    edited = edit_container(container, as_the_page_posts_it(container))
    assert edited == container and list(edited) == list(container)


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=8)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 70000), st.sampled_from(["100m", "1Gi", "ALL",
                     "httpGet", "Always", "/x", "http", ""]), _text)
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.one_of(st.sampled_from(
                                                             ["path", "port", "command", "drop", "add", "cpu",
                                                              "memory", "type", "seconds", "scheme"]), _text),
                                                             inner, max_size=3)), max_leaves=8)
_handlers = st.fixed_dictionaries({}, optional={
    "httpGet": st.dictionaries(st.sampled_from(["path", "port", "scheme"]), _values, max_size=3),
    "tcpSocket": st.dictionaries(st.just("port"), _values), "exec": st.dictionaries(st.just("command"), _values),
    "grpc": st.dictionaries(st.just("port"), _values), "sleep": st.dictionaries(st.just("seconds"), _values),
    "periodSeconds": _values, "failureThreshold": _values, "successThreshold": _values})
_containers = st.fixed_dictionaries({"name": st.just("c"), "image": st.just("x:1")}, optional={
    "readinessProbe": _handlers, "livenessProbe": _values, "startupProbe": _handlers,
    "lifecycle": st.fixed_dictionaries({}, optional={"preStop": _handlers, "postStart": _handlers}),
    "resources": st.dictionaries(st.sampled_from(["limits", "requests", "claims"]), _values, max_size=3),
    "securityContext": st.dictionaries(st.sampled_from(["privileged", "runAsUser", "capabilities", "seccompProfile",
                                                        "runAsNonRoot"]), _values, max_size=4),
    "imagePullPolicy": _values, "workingDir": _values, "tty": _values,
    "env": st.lists(st.fixed_dictionaries({"name": _text}, optional={"value": _values, "valueFrom": _values}),
                    max_size=3),
    "args": st.lists(_text, max_size=3), "command": st.lists(_text, max_size=3),
})


@settings(max_examples=300, deadline=None)
@given(_containers)
def test_any_container_comes_back_exactly_from_the_form_as_shown(container):
    """Whatever a container holds (values an input cannot show, probes with two handlers, shapes the API server
    would refuse), the form as shown posts it back unchanged: nothing is lost or turned into something else."""
    try:
        edited = edit_container(container, as_the_page_posts_it(container))
    except FormErrors as error:  # only for what was wrong before the edit: an unchanged form changes nothing
        raise AssertionError(f"an unchanged form was refused: {error.errors}") from None
    assert edited == container and list(edited) == list(container)
