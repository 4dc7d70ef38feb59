"""Edits keep a composition consistent or change nothing."""

import pytest

from composer.domain import edits
from composer.domain.model import Composition


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
