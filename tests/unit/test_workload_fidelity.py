"""Workloads of every kind whose selector, own metadata and spec fields (a Deployment's strategy, a
StatefulSet's claim templates, a Job's completions, a CronJob's schedule …) differ from their Pod
template's round-trip with the same meaning; old compositions still render as before; lint checks the selectors."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from composer.domain.importer import import_manifests
from composer.domain.lint import lint
from composer.domain.model import Composition
from composer.domain.render import build, render
from composer.domain.yamlio import dump_documents, load_documents
from tests.support.meaning import differences, meaning

keys = st.sampled_from(["app", "app.kubernetes.io/name", "version", "tier", "track", "example.com/team"])
values = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
label_maps = st.dictionaries(keys, values, max_size=4)
# NUL is refused on import (PostgreSQL cannot store it) and YAML cannot carry surrogates: tests/hardening covers both.
annotation_text = st.text(st.characters(codec="utf-8", blacklist_characters="\x00"), max_size=12)
annotation_maps = st.dictionaries(st.sampled_from(["note", "example.com/owner", "deployment.kubernetes.io/x"]),
                                  annotation_text, max_size=2)
strategies = st.one_of(
    st.none(),
    st.just({"type": "Recreate"}),
    st.fixed_dictionaries({"type": st.just("RollingUpdate"), "rollingUpdate": st.fixed_dictionaries(
        {}, optional={"maxSurge": st.one_of(st.integers(0, 3), st.just("25%")),
                      "maxUnavailable": st.one_of(st.integers(0, 3), st.just("30%"))})}),
)

claim_templates = st.lists(st.fixed_dictionaries({
    "metadata": st.fixed_dictionaries({"name": st.sampled_from(["data", "logs"])}),
    "spec": st.just({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}),
}), max_size=1)
job_fields = {
    "completions": st.integers(1, 5), "parallelism": st.integers(1, 3), "backoffLimit": st.integers(0, 6),
    "ttlSecondsAfterFinished": st.integers(0, 3600), "completionMode": st.sampled_from(["NonIndexed", "Indexed"]),
    "podFailurePolicy": st.just({"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]}),
}
# Per kind: its own spec fields beyond replicas, selector and template, as real manifests write them.
KIND_SPECS = {
    "Deployment": st.fixed_dictionaries({}, optional={
        "strategy": strategies.filter(bool), "minReadySeconds": st.integers(0, 60),
        "revisionHistoryLimit": st.integers(0, 10), "progressDeadlineSeconds": st.integers(60, 900),
        "paused": st.booleans()}),
    "StatefulSet": st.fixed_dictionaries({"serviceName": values}, optional={
        "podManagementPolicy": st.sampled_from(["OrderedReady", "Parallel"]),
        "updateStrategy": st.one_of(st.just({"type": "OnDelete"}),
                                    st.just({"type": "RollingUpdate", "rollingUpdate": {"partition": 1}})),
        "volumeClaimTemplates": claim_templates, "minReadySeconds": st.integers(0, 60),
        "persistentVolumeClaimRetentionPolicy": st.just({"whenDeleted": "Delete", "whenScaled": "Retain"})}),
    "DaemonSet": st.fixed_dictionaries({}, optional={
        "updateStrategy": st.just({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}),
        "minReadySeconds": st.integers(0, 60), "revisionHistoryLimit": st.integers(0, 10)}),
    "ReplicaSet": st.fixed_dictionaries({}, optional={"minReadySeconds": st.integers(0, 60)}),
    "Job": st.fixed_dictionaries({}, optional=job_fields),
    "CronJob": st.fixed_dictionaries({"schedule": st.sampled_from(["*/5 * * * *", "@hourly", "0 3 * * 1-5"])},
                                     optional={"concurrencyPolicy": st.sampled_from(["Allow", "Forbid", "Replace"]),
                                               "suspend": st.booleans(), "timeZone": st.just("Europe/Berlin"),
                                               "successfulJobsHistoryLimit": st.integers(0, 5)}),
}
API_VERSIONS = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "ReplicaSet": "apps/v1",
                "Job": "batch/v1", "CronJob": "batch/v1"}


@st.composite
def workloads(draw: st.DrawFn, kinds: tuple[str, ...] = tuple(KIND_SPECS)) -> list[dict]:
    """A controller of a random kind (and maybe a Service), written as a person would write it."""
    kind = draw(st.sampled_from(kinds))
    pod_labels = draw(label_maps.filter(bool))
    chosen = draw(st.lists(st.sampled_from(sorted(pod_labels)), min_size=1, unique=True))
    selector: dict = {"matchLabels": {key: pod_labels[key] for key in chosen}}
    if draw(st.booleans()):
        selector["matchExpressions"] = [{"key": "retired", "operator": "DoesNotExist"}]
    metadata: dict = {"name": draw(values)}
    own_labels = draw(label_maps)
    if own_labels:
        metadata["labels"] = own_labels
    if (own_annotations := draw(annotation_maps)):
        metadata["annotations"] = own_annotations
    template_metadata: dict = {"labels": pod_labels}
    if (pod_annotations := draw(annotation_maps)):
        template_metadata["annotations"] = pod_annotations
    containers = [{"name": f"c{index}", "image": "busybox:1.36"} for index in range(draw(st.integers(1, 3)))]
    pod_spec: dict = {"containers": containers}
    if kind in ("Job", "CronJob"):
        pod_spec["restartPolicy"] = draw(st.sampled_from(["Never", "OnFailure"]))
    template = {"metadata": template_metadata, "spec": pod_spec}
    spec: dict = draw(KIND_SPECS[kind])
    if kind == "CronJob":
        job_spec = {**draw(st.fixed_dictionaries({}, optional=job_fields)), "template": template}
        spec["jobTemplate"] = {"spec": job_spec}
        if draw(st.booleans()):
            spec["jobTemplate"]["metadata"] = {"labels": {"cron": "yes"}}
    else:
        spec["template"] = template
        if kind != "Job":
            spec["selector"] = selector
    if kind in ("Deployment", "StatefulSet", "ReplicaSet") and (replicas := draw(st.one_of(
            st.none(), st.integers(0, 5)))) is not None:
        spec["replicas"] = replicas
    manifests = [{"apiVersion": API_VERSIONS[kind], "kind": kind, "metadata": metadata, "spec": spec}]
    if draw(st.booleans()):
        service_selector = {key: pod_labels[key] for key in draw(st.lists(st.sampled_from(sorted(pod_labels)),
                                                                         min_size=1, unique=True))}
        service_metadata: dict = {"name": draw(values)}
        if (service_labels := draw(label_maps)):
            service_metadata["labels"] = service_labels
        service_spec = {"selector": service_selector, "ports": [{"name": "web", "port": 80, "targetPort": 8080}]}
        service_spec.update(draw(st.fixed_dictionaries({}, optional={
            "sessionAffinity": st.just("ClientIP"), "clusterIP": st.just("None"),
            "type": st.sampled_from(["ClusterIP", "NodePort"])})))
        manifests.append({"apiVersion": "v1", "kind": "Service", "metadata": service_metadata, "spec": service_spec})
    return manifests


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads())
def test_random_workloads_of_every_kind_round_trip_with_the_same_meaning(manifests):
    result = import_manifests(load_documents(dump_documents(manifests)))
    assert result.warnings == []
    rendered = render(result.composition)
    expected, found = meaning(manifests), meaning(rendered)
    assert sorted(found) == sorted(expected)
    assert [problem for key in expected for problem in differences(expected[key], found[key])] == []
    selector_codes = ("selector-mismatch", "service-selects-nothing", "job-restart-policy", "cron-schedule")
    assert not [p for p in lint(build(result.composition)) if p.code in selector_codes]


OLD_SAVED = {  # a composition saved before the workload kept its own metadata, selector and spec fields
    "workload": {"kind": "Deployment", "name": "shop", "namespace": "", "labels": {"app": "shop", "tier": "web"},
                 "replicas": 2, "annotations": {"note": "x"}},
    "app": {"name": "app", "image": "nginx:1.27", "ports": [{"name": "http", "containerPort": 80}]},
    "options": {"service": {"enabled": True, "type": "ClusterIP",
                            "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}},
}


def test_a_composition_saved_before_renders_as_it_did():
    deployment, service = render(Composition.from_dict(OLD_SAVED))[::-1]
    labels = {"app": "shop", "tier": "web"}
    assert deployment["metadata"] == {"name": "shop", "labels": labels}
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["selector"] == {"matchLabels": labels}
    assert deployment["spec"]["template"]["metadata"] == {"labels": labels, "annotations": {"note": "x"}}
    assert set(deployment["spec"]) == {"replicas", "selector", "template"}
    assert service["metadata"] == {"name": "shop"}
    assert service["spec"] == {"type": "ClusterIP", "selector": labels,
                               "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}


def _problems(composition: Composition, code: str, **kwargs) -> list:
    return [p for p in lint(build(composition), **kwargs) if p.code == code]


def test_a_selector_that_does_not_select_the_pod_labels_is_an_error():
    composition = Composition.from_dict({**OLD_SAVED, "workload": {
        **OLD_SAVED["workload"], "selector": {"matchLabels": {"app": "shop", "track": "stable"}}}})
    [problem] = _problems(composition, "selector-mismatch")
    assert problem.severity == "error" and "app=shop,track=stable" in problem.message
    composition.workload.selector = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]}
    assert _problems(composition, "selector-mismatch") == []
    composition.workload.selector = {}
    [problem] = _problems(composition, "selector-mismatch")
    assert "empty" in problem.message


def test_a_service_that_selects_none_of_the_pods_is_a_warning():
    composition = Composition.from_dict(OLD_SAVED)
    composition.options.service.selector = {"app": "shop", "track": "canary"}
    [problem] = _problems(composition, "service-selects-nothing")
    assert problem.severity == "warning" and problem.path == "Service/shop: spec.selector"
    composition.options.service.selector = {"app": "shop"}
    assert _problems(composition, "service-selects-nothing") == []


def test_a_selector_changed_since_a_deploy_needs_the_deployment_recreated():
    composition = Composition.from_dict(OLD_SAVED)
    deployed = {"kind-dev/shop": {"matchLabels": {"app": "shop"}}}
    [problem] = _problems(composition, "selector-changed", deployed_selectors=deployed)
    assert problem.severity == "warning" and "kind-dev/shop" in problem.message and "immutable" in problem.message
    unchanged = {"kind-dev/shop": {"matchLabels": {"app": "shop", "tier": "web"}}}
    assert _problems(composition, "selector-changed", deployed_selectors=unchanged) == []
