"""Edits keep a composition consistent or change nothing."""

import pytest

from composer.domain import edits
from composer.domain.model import Composition
from composer.domain.render import build


def test_added_helpers_get_unique_container_names():
    composition = Composition()
    edits.add_helper(composition, "log-tailer")
    second = edits.add_helper(composition, "log-tailer")
    assert second.params["name"] == "log-tailer-2"
    custom = edits.add_helper(composition, "custom", {"container": {"name": "app", "image": "busybox:1.36"}})
    assert custom.params["container"]["name"] == "app-2"


def test_a_helper_that_needs_the_process_namespace_turns_it_on():
    composition = Composition()
    edits.add_helper(composition, "config-reloader")
    assert composition.options.share_process_namespace is True


def test_invalid_params_change_nothing():
    composition = Composition()
    with pytest.raises(edits.EditError) as raised:
        edits.add_helper(composition, "wait-for", {"port": 0})
    assert raised.value.errors == {"port": "must be a whole number from 1 to 65535"}
    assert composition.helpers == []


def test_update_params_refuses_a_name_another_container_has():
    composition = Composition()
    first = edits.add_helper(composition, "log-tailer")
    edits.add_helper(composition, "debug-shell")
    with pytest.raises(edits.EditError) as raised:
        edits.update_params(composition, first.id, {"name": "debug"})
    assert "already named 'debug'" in raised.value.errors["name"]
    edits.update_params(composition, first.id, {"name": "tailer", "log_file": "x.log"})
    assert composition.helper(first.id).params == {"name": "tailer", "log_file": "x.log"}


def test_reorder_needs_every_helper_exactly_once():
    composition = Composition()
    a = edits.add_helper(composition, "sysctl")
    b = edits.add_helper(composition, "wait-for")
    with pytest.raises(edits.EditError):
        edits.reorder_helpers(composition, [a.id])
    edits.reorder_helpers(composition, [b.id, a.id])
    assert [h.id for h in composition.helpers] == [b.id, a.id]
    edits.move_helper(composition, a.id, 0)
    assert [h.id for h in composition.helpers] == [a.id, b.id]


def test_run_to_completion_helpers_cannot_be_native_sidecars():
    composition = Composition()
    init = edits.add_helper(composition, "sysctl")
    with pytest.raises(edits.EditError, match="runs to completion"):
        edits.set_native_sidecar(composition, init.id, True)
    sidecar = edits.add_helper(composition, "log-tailer")
    edits.set_native_sidecar(composition, sidecar.id, True)
    assert composition.helper(sidecar.id).native_sidecar is True


def test_removing_an_unknown_helper_says_so():
    with pytest.raises(edits.EditError, match="no helper 'h9'"):
        edits.remove_helper(Composition(), "h9")


def tailer_with_overrides():
    composition = Composition()
    helper = edits.add_helper(composition, "log-tailer")
    helper.overrides = {"resources": {"limits": {"memory": "64Mi"}}, "command": None}
    return composition, helper


def test_set_override_sets_one_field_by_hand_and_render_uses_it():
    composition, helper = tailer_with_overrides()
    message = edits.set_override(composition, helper.id, "imagePullPolicy", "Always")
    assert message == "set imagePullPolicy of h1 by hand"
    assert helper.overrides["imagePullPolicy"] == "Always"
    tailer = build(composition).pod_spec["containers"][1]
    assert tailer["imagePullPolicy"] == "Always" and "command" not in tailer
    edits.set_override(composition, helper.id, "command", ["tail", "-F", "/x"])
    assert build(composition).pod_spec["containers"][1]["command"] == ["tail", "-F", "/x"]


@pytest.mark.parametrize("field, value, errors", [
    ("name", "tailer", {"field": "the container name is a parameter, not an override"}),
    ("restartPolicy", "Always", {"field": "restartPolicy follows where the helper runs: use Run as native sidecar"}),
    ("colour", "blue", {"field": "'colour' is not a field of a Kubernetes container"}),
    ("volumeMounts", "/var/log", {"value": "volumeMounts must be a list (found a string)"}),
    ("env", [{"value": "x"}], {"value": "env[0].name must be a string"}),
    ("resources", ["64Mi"], {"value": "resources must be a mapping (found a list)"}),
    ("args", ["-F", "/var/log/a\x00b"], {"value": "must not contain NUL characters (\\u0000)"}),
    ("env", [{"name": "A\x00", "value": "x"}], {"value": "must not contain NUL characters (\\u0000)"}),
])
def test_set_override_refuses_what_is_not_a_field_by_hand_and_changes_nothing(field, value, errors):
    composition, helper = tailer_with_overrides()
    before = composition.to_dict()
    with pytest.raises(edits.EditError) as raised:
        edits.set_override(composition, helper.id, field, value)
    assert raised.value.errors == errors
    assert composition.to_dict() == before


def test_set_override_refuses_an_unknown_helper_and_a_custom_one():
    composition = Composition()
    with pytest.raises(edits.EditError, match="no helper 'h9'"):
        edits.set_override(composition, "h9", "tty", True)
    custom = edits.add_helper(composition, "custom")
    with pytest.raises(edits.EditError) as raised:
        edits.set_override(composition, custom.id, "tty", True)
    assert "Container spec parameter" in raised.value.errors["field"]


def test_reset_override_gives_the_field_back_to_the_pattern():
    composition, helper = tailer_with_overrides()
    assert edits.reset_override(composition, helper.id, "command") == "reset command of h1 to the pattern's"
    assert build(composition).pod_spec["containers"][1]["command"][0] == "tail"
    with pytest.raises(edits.EditError, match="command of h1 is not set by hand"):
        edits.reset_override(composition, helper.id, "command")
    assert edits.reset_override(composition, helper.id, None) == "reset every field of h1 to the pattern's"
    assert helper.overrides == {}
    with pytest.raises(edits.EditError, match="no field of h1 is set by hand"):
        edits.reset_override(composition, helper.id, None)


def test_overridable_fields_are_the_container_fields_but_name_and_restart_policy():
    fields = edits.overridable_fields()
    assert fields == sorted(fields) and {"resources", "securityContext", "livenessProbe"} <= set(fields)
    assert "name" not in fields and "restartPolicy" not in fields
