"""The Pod's volumes as the composer edits them: quantities, the checks of each source, the edits (each a
revision's message) and the lint that goes with them."""

from decimal import Decimal

import pytest

from composer.domain import edits, volumes
from composer.domain.lint import lint
from composer.domain.model import Composition
from composer.domain.quantities import quantity_problem, value
from composer.domain.render import build


@pytest.mark.parametrize("text, amount", [
    ("100m", Decimal("0.1")), ("0.5", Decimal("0.5")), ("2", Decimal(2)), ("128Mi", Decimal(128 * 2**20)),
    ("1Gi", Decimal(2**30)), ("1e3", Decimal(1000)), ("1E", Decimal(10**18)), (".5", Decimal("0.5")),
    ("+1k", Decimal(1000)), ("250u", Decimal("0.00025")), ("1.5Gi", Decimal("1.5") * 2**30),
])
def test_quantities_as_the_api_server_reads_them(text, amount):
    assert value(text) == amount and quantity_problem(text) is None


@pytest.mark.parametrize("text, message", [
    ("256MB", "MB is not a unit, write M or Mi"), ("1K", "K is not a unit, write k or Ki"),
    ("abc", "is not a Kubernetes quantity (e.g. 100m or 0.5 for CPU"), ("1 Gi", "is not a Kubernetes quantity"),
    ("", "is not a Kubernetes quantity"), ("1e", "is not a Kubernetes quantity"),
    ("-1", "below 0: a resource amount cannot be negative"), ("1e99999999", "is not a Kubernetes quantity"),
])
def test_what_is_not_a_quantity_says_why(text, message):
    assert message in quantity_problem(text)


def test_numbers_are_quantities_too_but_not_booleans():
    assert value(1) == 1 and value(0.25) == Decimal("0.25") and value(True) is None and value(None) is None


@pytest.mark.parametrize("volume, kind", [
    ({"name": "a", "emptyDir": {}}, "emptyDir"),
    ({"name": "a", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}, "emptyDir"),
    ({"name": "a", "emptyDir": {"medium": "HugePages"}}, "yaml"),  # the form offers default and Memory
    ({"name": "a", "configMap": {"name": "cm", "items": [{"key": "k", "path": "p"}], "defaultMode": 420}},
     "configMap"),
    ({"name": "a", "secret": {"secretName": "s", "optional": True}}, "secret"),
    ({"name": "a", "persistentVolumeClaim": {"claimName": "c", "readOnly": True}}, "persistentVolumeClaim"),
    ({"name": "a", "hostPath": {"path": "/var/log", "type": "Directory"}}, "hostPath"),
    ({"name": "a", "projected": {"sources": []}}, "yaml"),
    ({"name": "a", "downwardAPI": {"items": []}}, "yaml"),
    ({"name": "a", "emptyDir": {}, "configMap": {"name": "x"}}, "yaml"),  # two sources: only YAML says it
])
def test_a_volume_is_edited_by_its_form_only_if_the_form_shows_all_of_it(volume, kind):
    assert volumes.volume_kind(volume) == kind


@pytest.mark.parametrize("volume, problems", [
    ({"name": "Data", "emptyDir": {}}, {"name": "a volume name is a DNS label"}),
    ({"name": "a", "emptyDir": {"sizeLimit": "1GB"}}, {"sizeLimit": "GB is not a unit"}),
    ({"name": "a", "configMap": {"name": ""}}, {"configMap": "the ConfigMap's name: must not be empty"}),
    ({"name": "a", "secret": {}}, {"secretName": "the Secret's name: must not be empty"}),
    ({"name": "a", "persistentVolumeClaim": {"claimName": "Bad_Claim"}}, {"claimName": "lower-case letters"}),
    ({"name": "a", "hostPath": {"path": "var/log"}}, {"path": "a path on the node, from /"}),
    ({"name": "a", "hostPath": {"path": "/var/../etc"}}, {"path": "must not contain '..'"}),
    ({"name": "a", "hostPath": {"path": "/x", "type": "Folder"}}, {"hostPathType": "one of DirectoryOrCreate"}),
    ({"name": "a"}, {"source": "exactly one source"}),
    ({"name": "a", "teleport": {}}, {"source": "'teleport' is not a kind of volume source"}),
    ({"name": "a", "projected": []}, {"source": "projected must be a mapping"}),
])
def test_volume_problems_name_the_field(volume, problems):
    found = volumes.volume_problems(volume)
    assert set(found) == set(problems)
    for field, message in problems.items():
        assert message in found[field]


def test_add_update_and_remove_a_volume_each_say_what_they_did():
    composition = Composition()
    assert edits.add_volume(composition, {"name": "data", "emptyDir": {}}) == "added volume data (emptyDir)"
    composition.app.volume_mounts = [{"name": "data", "mountPath": "/data"}]
    message = edits.update_volume(composition, 0, {"name": "data", "emptyDir": {"medium": "Memory"}})
    assert message == "edited volume data (emptyDir (Memory))"
    assert edits.update_volume(composition, 0, {"name": "cache", "emptyDir": {}}) == \
        "renamed volume data to cache and 1 mount"
    assert composition.app.volume_mounts == [{"name": "cache", "mountPath": "/data"}]  # the mount followed
    assert edits.remove_volume(composition, 0) == "removed volume cache (app still mounts it)"
    assert composition.options.volumes == []
    problems = [p for p in lint(build(composition)) if p.code == "missing-volume"]
    assert "which the Pod does not declare: add it under Volumes" in problems[0].message


def test_a_rename_follows_the_mounts_of_custom_helpers_and_of_fields_set_by_hand_too():
    composition = Composition()
    edits.add_volume(composition, {"name": "shared", "emptyDir": {}})
    edits.add_helper(composition, "custom", {"container": {"name": "side", "image": "busybox:1.36",
                                                           "volumeMounts": [{"name": "shared", "mountPath": "/s"}]}})
    tailer = edits.add_helper(composition, "log-tailer")
    edits.set_override(composition, tailer.id, "volumeMounts", [{"name": "shared", "mountPath": "/x"}])
    assert edits.update_volume(composition, 0, {"name": "common", "emptyDir": {}}).endswith("and 2 mounts")
    assert composition.helpers[0].params["container"]["volumeMounts"][0]["name"] == "common"
    assert composition.helpers[1].overrides["volumeMounts"][0]["name"] == "common"


def test_a_name_taken_by_another_volume_or_by_a_helper_is_refused_and_changes_nothing():
    composition = Composition()
    edits.add_helper(composition, "log-tailer")  # declares "logs"
    edits.add_volume(composition, {"name": "data", "emptyDir": {}})
    with pytest.raises(edits.EditError) as raised:
        edits.add_volume(composition, {"name": "data", "secret": {"secretName": "s"}})
    assert raised.value.errors == {"name": "another volume is already named 'data'"}
    with pytest.raises(edits.EditError) as raised:
        edits.add_volume(composition, {"name": "logs", "emptyDir": {}})
    assert raised.value.errors["name"] == ("helper h1 ('log-tailer', Log tailer) declares a volume named 'logs' "
                                           "itself: choose another name")
    with pytest.raises(edits.EditError) as raised:
        edits.update_volume(composition, 0, {"name": "logs", "emptyDir": {}})
    assert "helper h1" in raised.value.errors["name"]
    with pytest.raises(edits.EditError) as raised:
        edits.add_volume(composition, {"name": "Bad", "hostPath": {"path": "etc"}})
    assert set(raised.value.errors) == {"name", "path"}
    assert composition.options.volumes == [{"name": "data", "emptyDir": {}}]


def test_an_edit_of_a_volume_that_is_not_there_is_refused():
    with pytest.raises(edits.EditError, match="no volume number 1: reload the page"):
        edits.remove_volume(Composition(), 0)
    with pytest.raises(edits.EditError, match="no volume number 3"):
        edits.update_volume(Composition(), 2, {"name": "a", "emptyDir": {}})


def test_a_host_path_is_allowed_and_explained():
    composition = Composition()
    edits.add_volume(composition, {"name": "node-logs", "hostPath": {"path": "/var/log"}})
    [problem] = [p for p in lint(build(composition)) if p.code == "host-path"]
    assert problem.severity == "warning" and problem.path == "Pod/my-app: spec.volumes[0]"
    assert "the node's path /var/log" in problem.message and "Pod Security 'baseline'" in problem.message


def test_the_helpers_volumes_and_who_mounts_a_volume():
    composition = Composition()
    edits.add_helper(composition, "log-tailer")
    rendering = build(composition)
    [(placed, volume)] = volumes.helper_volumes(rendering)
    assert placed.container_name == "log-tailer" and volume["name"] == "logs"
    assert volumes.mounting(rendering, "logs") == ["app", "log-tailer"]
    assert volumes.describe({"name": "c", "persistentVolumeClaim": {"claimName": "db", "readOnly": True}}) == \
        "PVC db (read-only)"
