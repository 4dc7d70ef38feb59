"""Multi-container lint: the mistakes that schema validation cannot see.

Checks run on the rendered Pod spec, so imported custom containers are checked
exactly like pattern-built ones.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from composer.domain import lint_volumes, selectors
from composer.domain.kinds import KINDS
from composer.domain.names import manifest_name_problems
from composer.domain.problems import Problem, Severity
from composer.domain.render import Placement, Rendering, service_name

NATIVE_SIDECAR_MIN = (1, 29)
PROBES = ("readinessProbe", "livenessProbe", "startupProbe")

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741


def lint(
    rendering: Rendering,
    cluster_version: tuple[int, int] | None = None,
    deployed_selectors: dict[str, dict[str, Any]] | None = None,
) -> list[Problem]:
    """`deployed_selectors`: the selector the workload was last deployed with, by target ("context/namespace")."""
    where = f"{rendering.workload['kind']}/{rendering.composition.workload.name}"
    problems: list[Problem] = []
    for check in CHECKS:
        problems.extend(check(rendering, where))
    if cluster_version is not None:
        problems.extend(_native_sidecars_supported(rendering, where, cluster_version))
    if deployed_selectors:
        problems.extend(_selector_changed(rendering, where, deployed_selectors))
    return sorted(problems, key=lambda p: ("error", "warning", "info").index(p.severity))


def _helper_params(rendering: Rendering, where: str) -> Iterator[Problem]:
    for item in rendering.helpers:
        for param, message in item.param_errors.items():
            yield Problem(E, "invalid-param", f"{item.pattern.title} '{item.helper.id}': {param}: {message}",
                          f"{where}: helper {item.helper.id}")
    for helper in rendering.unknown_helpers:
        yield Problem(E, "unknown-pattern", f"Helper '{helper.id}' uses unknown pattern '{helper.pattern}'",
                      f"{where}: helper {helper.id}")


def _duplicate_names(rendering: Rendering, where: str) -> Iterator[Problem]:
    seen: dict[str, str] = {}
    for list_name, index, container in rendering.all_containers():
        name = container.get("name", "")
        if name in seen:
            yield Problem(E, "duplicate-container-name",
                          f"Two containers are named '{name}'; container names must be unique in a Pod",
                          f"{where}: spec.{list_name}[{index}].name")
        seen[name] = list_name


def _port_clashes(rendering: Rendering, where: str) -> Iterator[Problem]:
    listeners: dict[tuple[int, str], list[str]] = defaultdict(list)
    for list_name, index, container in rendering.running_containers():
        for port_index, port in enumerate(container.get("ports") or []):
            key = (port.get("containerPort"), port.get("protocol", "TCP"))
            listeners[key].append(container.get("name", "?"))
            if len(listeners[key]) == 2:
                yield Problem(
                    E, "port-clash",
                    f"Port {key[0]}/{key[1]} is declared by both '{listeners[key][0]}' and "
                    f"'{listeners[key][1]}': all containers of a Pod share one network namespace",
                    f"{where}: spec.{list_name}[{index}].ports[{port_index}]",
                )
    names: dict[str, str] = {}
    for list_name, index, container in rendering.all_containers():
        own: set[str] = set()
        for port_index, port in enumerate(container.get("ports") or []):
            name = port.get("name")
            location = f"{where}: spec.{list_name}[{index}].ports[{port_index}].name"
            if name and name in own:
                yield Problem(E, "duplicate-port-name",
                              f"Container '{container.get('name')}' names two ports '{name}': the API server "
                              "refuses it", location)
            elif name and name in names:
                # The API server accepts it with a warning; a Service targeting the name reaches either.
                yield Problem(W, "duplicate-port-name",
                              f"Port name '{name}' is used by '{names[name]}' and '{container.get('name')}': a "
                              "Service port that targets it by name may reach either", location)
            if name:
                own.add(name)
                names.setdefault(name, container.get("name", ""))


PULL_POLICIES = ("Always", "IfNotPresent", "Never")


def _pull_policies(rendering: Rendering, where: str) -> Iterator[Problem]:
    for list_name, index, container in rendering.all_containers():
        policy = container.get("imagePullPolicy")
        if policy is not None and policy not in PULL_POLICIES:
            yield Problem(E, "image-pull-policy",
                          f"Container '{container.get('name')}': imagePullPolicy {policy!r} must be one of "
                          f"{', '.join(PULL_POLICIES)} (the API server refuses anything else)",
                          f"{where}: spec.{list_name}[{index}].imagePullPolicy")


def _named_probe_ports(rendering: Rendering, where: str) -> Iterator[Problem]:
    """A probe may name a port only if its own container declares it: the kubelet looks nowhere else."""
    for list_name, index, container in rendering.all_containers():
        declared = {port.get("name") for port in container.get("ports") or []}
        for probe in PROBES:
            handler = container.get(probe) or {}
            for action in ("httpGet", "tcpSocket", "grpc"):
                target = (handler.get(action) or {}).get("port")
                if isinstance(target, str) and target not in declared:
                    yield Problem(E, "probe-port",
                                  f"Container '{container.get('name')}': its {probe} checks port '{target}', "
                                  "which it does not declare, so the probe can never succeed",
                                  f"{where}: spec.{list_name}[{index}].{probe}.{action}.port")


PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")


def _probe_handlers(rendering: Rendering, where: str) -> Iterator[Problem]:
    """A probe checks exactly one thing: the API server refuses none (or a second) of exec, httpGet, tcpSocket,
    grpc."""
    for list_name, index, container in rendering.all_containers():
        for probe in PROBES:
            handler = container.get(probe)
            if not isinstance(handler, dict):
                continue
            found = [action for action in PROBE_HANDLERS if handler.get(action) is not None]
            if len(found) != 1:
                what = "checks nothing" if not found else f"checks {' and '.join(found)}"
                yield Problem(E, "probe-handler",
                              f"Container '{container.get('name')}': its {probe} {what}, but a probe has exactly "
                              f"one of {', '.join(PROBE_HANDLERS)} (the API server refuses it)",
                              f"{where}: spec.{list_name}[{index}].{probe}")


LOCAL_URL = re.compile(r"\b(https?)://(?:localhost|127\.0\.0\.1)(?::(\d{1,5}))?(?=[/\s'\"]|$)")


def _local_targets(rendering: Rendering, where: str) -> Iterator[Problem]:
    """A URL on localhost that a pattern's helper calls must reach a port another container declares, in the
    scheme that port speaks (plain HTTP to a TLS terminator's port fails). Custom containers are left alone:
    real apps often listen on ports they do not declare. A TLS terminator's upstream is such a port: the
    terminator moved the app there (its app env), usually onto loopback, where declaring it would mislead."""
    terminators = [item for item in rendering.helpers if item.pattern.id == "tls-terminator"]
    tls_ports = {item.params.get("listen_port") for item in terminators}
    moved_app_ports = {item.params.get("upstream_port") for item in terminators}
    running = [container for _, _, container in rendering.running_containers()]
    for item in rendering.helpers:
        if item.pattern.id == "custom" or item.placement == Placement.INIT:
            continue
        container = item.container
        others = moved_app_ports | {port.get("containerPort") for other in running
                                    if other.get("name") != container.get("name") for port in other.get("ports") or []}
        texts = [*(container.get("command") or []), *(container.get("args") or []),
                 *(str(variable.get("value", "")) for variable in container.get("env") or [])]
        for scheme, number in sorted({match.groups() for text in texts for match in LOCAL_URL.finditer(str(text))}):
            port = int(number) if number else (443 if scheme == "https" else 80)
            location = f"{where}: helper {item.helper.id}"
            if port not in others:
                yield Problem(W, "local-target-port",
                              f"'{item.container_name}' ({item.pattern.title}) calls {scheme}://localhost:{port}, but "
                              f"no other container declares port {port}: set it to the app's port", location)
            elif scheme == "http" and port in tls_ports:
                yield Problem(W, "plain-http-to-tls",
                              f"'{item.container_name}' ({item.pattern.title}) sends plain HTTP to localhost:{port}, "
                              "where the TLS terminator expects TLS: call the app's internal port instead", location)


def _init_rules(rendering: Rendering, where: str) -> Iterator[Problem]:
    for index, container in enumerate(rendering.init_containers()):
        location = f"{where}: spec.initContainers[{index}]"
        policy = container.get("restartPolicy")
        if policy is not None and policy != "Always":
            yield Problem(E, "init-restart-policy",
                          f"Init container '{container.get('name')}': restartPolicy may only be Always "
                          "(a native sidecar)", location)
        if policy == "Always":
            continue
        for probe in PROBES:
            if probe in container:
                yield Problem(E, "probe-on-init-container",
                              f"Init container '{container.get('name')}' has a {probe}; init containers may not "
                              "have probes (run it as a native sidecar if it must keep running)", location)
        if container.get("ports"):
            yield Problem(W, "ports-on-init-container",
                          f"Init container '{container.get('name')}' declares ports, but it has exited before "
                          "anything can reach them", location)


def _privileged(rendering: Rendering, where: str) -> Iterator[Problem]:
    for list_name, index, container in rendering.all_containers():
        context = container.get("securityContext") or {}
        if context.get("privileged"):
            yield Problem(W, "privileged",
                          f"Container '{container.get('name')}' is privileged: it has full access to the node "
                          "(needed for sysctl; Pod Security 'baseline' and 'restricted' reject it)",
                          f"{where}: spec.{list_name}[{index}].securityContext.privileged")


def _images(rendering: Rendering, where: str) -> Iterator[Problem]:
    for list_name, index, container in rendering.all_containers():
        image = container.get("image") or ""
        location = f"{where}: spec.{list_name}[{index}].image"
        if not image:
            yield Problem(E, "missing-image", f"Container '{container.get('name')}' has no image", location)
            continue
        last = image.rsplit("/", 1)[-1]
        if "@" in last:
            continue
        if ":" not in last or last.endswith(":latest"):
            yield Problem(W, "latest-image",
                          f"Container '{container.get('name')}' uses {image}: without a pinned tag every deploy "
                          "may run different code", location)


def _process_namespace(rendering: Rendering, where: str) -> Iterator[Problem]:
    shared = rendering.composition.options.share_process_namespace
    for item in rendering.helpers:
        if item.contribution.needs_share_process_namespace and not shared:
            yield Problem(E, "needs-share-process-namespace",
                          f"'{item.container_name}' ({item.pattern.title}) must see the app's processes: turn on "
                          "Share process namespace", f"{where}: spec.shareProcessNamespace")
    if shared:
        yield Problem(W, "share-process-namespace",
                      "Every container can see and signal every other container's processes and read their "
                      "files through /proc/<pid>/root (secrets included)", f"{where}: spec.shareProcessNamespace")


def _pod_labels(rendering: Rendering) -> dict[str, str]:
    return rendering.composition.workload.labels


def _workload_selector(rendering: Rendering) -> dict[str, Any] | None:
    """The controller's selector as rendered; None for a bare Pod or a Job whose selector the server makes."""
    if KINDS[rendering.workload["kind"]].is_pod:
        return None
    return rendering.workload["spec"].get("selector")


def _selector(rendering: Rendering, where: str) -> Iterator[Problem]:
    selector = _workload_selector(rendering)
    if selector is None:
        return
    kind = rendering.workload["kind"]
    if selectors.is_empty(selector):
        yield Problem(E, "selector-mismatch", f"The selector is empty: the API server refuses a {kind} that "
                      "would select every Pod of its namespace", f"{where}: spec.selector")
    elif not selectors.matches(selector, _pod_labels(rendering)):
        yield Problem(E, "selector-mismatch",
                      f"The selector {selectors.describe(selector)} does not select the Pod labels "
                      f"{selectors.describe({'matchLabels': _pod_labels(rendering)})}: the API server refuses it",
                      f"{where}: spec.selector")


def _runs_to_completion(rendering: Rendering, where: str) -> Iterator[Problem]:
    kind = KINDS[rendering.workload["kind"]]
    if not kind.runs_to_completion:
        return
    policy = rendering.pod_spec.get("restartPolicy")
    if policy not in ("Never", "OnFailure"):
        found = f"restartPolicy {policy}" if policy else "no restartPolicy (Always, by default)"
        yield Problem(E, "job-restart-policy",
                      f"A {kind.name}'s Pods must end: set restartPolicy to Never or OnFailure ({found}; the API "
                      "server refuses it)", f"{where}: spec.restartPolicy")
    for item in rendering.helpers:
        if item.placement == Placement.CONTAINER:
            yield Problem(W, "job-regular-sidecar",
                          f"'{item.container_name}' runs beside the app, so the {kind.name}'s Pod keeps running "
                          "after the app is done and never completes: run it as a native sidecar, which stops "
                          "when the app does", f"{where}: helper {item.helper.id}")


def _cron_schedule(rendering: Rendering, where: str) -> Iterator[Problem]:
    if rendering.workload["kind"] != "CronJob":
        return
    schedule = rendering.workload["spec"].get("schedule")
    macro = isinstance(schedule, str) and schedule.strip().startswith("@")
    if not isinstance(schedule, str) or not (macro or len(schedule.split()) == 5):
        yield Problem(E, "cron-schedule",
                      f"A CronJob needs a schedule of five fields (minute hour day-of-month month day-of-week, "
                      f"e.g. */5 * * * *) or a macro such as @hourly (found {schedule!r})", f"{where}: spec.schedule")


def _headless_service(rendering: Rendering, where: str) -> Iterator[Problem]:
    if rendering.workload["kind"] != "StatefulSet":
        return
    service_name = rendering.workload["spec"].get("serviceName")
    if not service_name:
        yield Problem(W, "statefulset-service",
                      "The StatefulSet names no headless Service (serviceName), so its Pods get no stable DNS "
                      "names such as web-0.web", f"{where}: spec.serviceName")
        return
    services = [m for m in rendering.manifests if m.get("kind") == "Service"
                and m["metadata"].get("name") == service_name]
    if not services:
        yield Problem(I, "statefulset-service",
                      f"The headless Service '{service_name}' (serviceName) is not part of this composition: it "
                      "must exist in the namespace for the Pods' DNS names", f"{where}: spec.serviceName")
    elif services[-1]["spec"].get("clusterIP") != "None":
        yield Problem(W, "statefulset-service",
                      f"Service '{service_name}' (the StatefulSet's serviceName) is not headless: set clusterIP: "
                      "None so each Pod gets its own DNS name", f"Service/{service_name}: spec.clusterIP")


def _service_selectors(rendering: Rendering, where: str) -> Iterator[Problem]:
    for manifest in rendering.manifests:
        selector = (manifest.get("spec") or {}).get("selector") or {}
        if manifest.get("kind") != "Service" or not selector:
            continue  # a Service without a selector has its endpoints managed by hand
        if not selectors.matches({"matchLabels": selector}, _pod_labels(rendering)):
            yield Problem(W, "service-selects-nothing",
                          f"Service '{manifest['metadata'].get('name')}' selects "
                          f"{selectors.describe({'matchLabels': selector})}, which the Pod labels do not match: "
                          "it sends no traffic to this workload", f"Service/{manifest['metadata'].get('name')}: "
                          "spec.selector")


def _selector_changed(rendering: Rendering, where: str, deployed: dict[str, dict[str, Any]]) -> Iterator[Problem]:
    selector = _workload_selector(rendering)
    kind = rendering.workload["kind"]
    for target, was in sorted(deployed.items()):
        if was != selector:
            now = "none" if selector is None else selectors.describe(selector)
            yield Problem(W, "selector-changed",
                          f"The selector changed from {selectors.describe(was)} to {now} since the deploy to "
                          f"{target}; a {kind}'s selector is immutable, so the API server refuses this change "
                          "there: undeploy it, then deploy again", f"{where}: spec.selector")


def _service_ports(rendering: Rendering, where: str) -> Iterator[Problem]:
    name = service_name(rendering.composition)
    exposed = [m for m in rendering.manifests if m.get("kind") == "Service" and m["metadata"].get("name") == name]
    if not rendering.composition.options.service.enabled or not exposed:
        return
    service = exposed[-1]  # the workload's own, rendered after the companions
    named, numbered = set(), set()
    for _, _, container in rendering.running_containers():
        for port in container.get("ports") or []:
            named.add(port.get("name"))
            numbered.add(port.get("containerPort"))
    ports = service["spec"].get("ports") or []
    if not ports and service["spec"].get("clusterIP") != "None":  # a headless Service only names the Pods
        yield Problem(E, "service-without-ports", "The Service exposes no ports",
                      f"Service/{service['metadata']['name']}: spec.ports")
    for index, port in enumerate(ports):
        target = port.get("targetPort", port.get("port"))
        location = f"Service/{service['metadata']['name']}: spec.ports[{index}].targetPort"
        if isinstance(target, str) and target not in named:
            yield Problem(E, "service-target-port",
                          f"Service port {port.get('port')} targets port name '{target}', which no container "
                          "declares", location)
        elif isinstance(target, int) and target not in numbered:
            yield Problem(W, "service-target-port",
                          f"Service port {port.get('port')} targets {target}, which no container declares", location)


def _env_overrides(rendering: Rendering, where: str) -> Iterator[Problem]:
    own = {e.get("name") for e in rendering.composition.app.env}
    for item in rendering.helpers:
        for variable in item.contribution.app_env:
            if variable.get("name") in own:
                yield Problem(W, "app-env-kept",
                              f"'{item.container_name}' would set {variable['name']} on the app, but the app sets "
                              "it itself; the app's value wins", f"{where}: app env {variable['name']}")


def _names(rendering: Rendering, where: str) -> Iterator[Problem]:
    for manifest in rendering.manifests:
        for path, message in manifest_name_problems(manifest).items():
            yield Problem(E, "invalid-name", f"{message}: the API server refuses it", path)


def _native_sidecars_supported(rendering: Rendering, where: str, version: tuple[int, int]) -> Iterator[Problem]:
    if version >= NATIVE_SIDECAR_MIN:
        return
    for item in rendering.helpers:
        if item.placement == Placement.NATIVE_SIDECAR:
            yield Problem(E, "native-sidecar-unsupported",
                          f"'{item.container_name}' runs as a native sidecar, which needs Kubernetes 1.29 or newer "
                          f"(the cluster runs {version[0]}.{version[1]})", f"{where}: spec.initContainers")


CHECKS = (
    _helper_params,
    _names,
    _duplicate_names,
    _port_clashes,
    _pull_policies,
    _named_probe_ports,
    _probe_handlers,
    _local_targets,
    lint_volumes.volumes,
    lint_volumes.host_paths,
    _init_rules,
    _privileged,
    _images,
    _process_namespace,
    _service_ports,
    _env_overrides,
    _selector,
    _service_selectors,
    _runs_to_completion,
    _cron_schedule,
    _headless_service,
)
