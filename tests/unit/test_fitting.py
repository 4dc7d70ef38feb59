"""A helper added to a composition gets defaults that fit it: free ports and port names, the app's port
where it aims at the app; what the user gives is kept as given."""

import pytest

from composer.domain import edits
from composer.domain.examples import EXAMPLES_BY_ID
from composer.domain.lint import lint
from composer.domain.model import AppContainer, Composition
from composer.domain.render import build, render


def _app_on(port: int) -> Composition:
    return Composition(app=AppContainer(image="registry.example.com/shop:2.1",
                                        ports=[{"name": "http", "containerPort": port}]))


def _codes(composition: Composition) -> set[str]:
    return {problem.code for problem in lint(build(composition))}


def test_a_health_endpoint_beside_an_app_on_8080_listens_elsewhere_and_checks_the_app():
    composition = _app_on(8080)
    helper = edits.add_helper(composition, "health-endpoint")
    assert helper.params["port"] == 8081
    assert helper.params["app_url"] == "http://localhost:8080/"
    assert not {"port-clash", "local-target-port", "duplicate-port-name"} & _codes(composition)


def test_a_second_health_endpoint_gets_its_own_port_and_port_name():
    composition = _app_on(80)
    first = edits.add_helper(composition, "health-endpoint")
    second = edits.add_helper(composition, "health-endpoint")
    assert (first.params.get("port", 8080), second.params["port"]) == (8080, 8081)
    assert second.params["port_name"] == "health-2"
    assert not {"port-clash", "duplicate-port-name"} & _codes(composition)


def test_a_port_remapper_and_a_tls_terminator_aim_at_the_app_port():
    composition = _app_on(8775)
    assert edits.add_helper(composition, "port-remapper").params["target_port"] == 8775
    composition = _app_on(9201)
    assert edits.add_helper(composition, "tls-terminator").params["upstream_port"] == 9201


def test_an_exporter_behind_a_tls_terminator_calls_the_app_not_the_tls_port():
    composition = _app_on(9201)
    edits.add_helper(composition, "tls-terminator", {"listen_port": 9200})
    exporter = edits.add_helper(composition, "prometheus-exporter")
    assert exporter.params["args"] == ["--es.uri=http://localhost:9201"]
    assert "plain-http-to-tls" not in _codes(composition)


def test_an_exporter_added_to_the_tls_example_calls_the_port_the_terminator_moved_the_app_to_with_no_warning():
    """The app listens on 127.0.0.1:9201 (the terminator's app env) without declaring it."""
    composition = EXAMPLES_BY_ID["tls-ambassador"].build()
    assert not composition.app.ports
    exporter = edits.add_helper(composition, "prometheus-exporter")
    assert exporter.params["args"] == ["--es.uri=http://localhost:9201"]
    assert [problem for problem in lint(build(composition)) if problem.severity != "info"] == []


def test_what_the_user_gives_is_kept_and_lint_says_what_is_wrong_with_it():
    composition = _app_on(8080)
    helper = edits.add_helper(composition, "health-endpoint", {"port": 8080, "app_url": "http://localhost:80/"})
    assert (helper.params["port"], helper.params["app_url"]) == (8080, "http://localhost:80/")
    assert {"port-clash", "local-target-port"} <= _codes(composition)


def test_plain_http_to_the_tls_port_is_a_warning():
    composition = _app_on(9201)
    edits.add_helper(composition, "tls-terminator", {"listen_port": 9200})
    edits.add_helper(composition, "prometheus-exporter", {"args": ["--es.uri=http://localhost:9200"]})
    assert "plain-http-to-tls" in _codes(composition)


def test_a_bad_pull_policy_and_a_probe_on_an_undeclared_port_name_are_errors():
    composition = _app_on(8080)
    composition.app.extra = {"imagePullPolicy": "Sometimes",
                             "readinessProbe": {"httpGet": {"path": "/", "port": "web"}}}
    assert {"image-pull-policy", "probe-port"} <= _codes(composition)
    composition.app.extra = {"imagePullPolicy": "IfNotPresent",
                             "readinessProbe": {"httpGet": {"path": "/", "port": "http"}}}
    assert not {"image-pull-policy", "probe-port"} & _codes(composition)


def test_a_port_name_twice_in_one_container_is_an_error_in_two_a_warning():
    composition = _app_on(8080)
    composition.app.ports.append({"name": "http", "containerPort": 8081})
    severities = {p.severity for p in lint(build(composition)) if p.code == "duplicate-port-name"}
    assert severities == {"error"}
    composition = _app_on(8080)
    edits.add_helper(composition, "health-endpoint", {"port_name": "http"})
    severities = {p.severity for p in lint(build(composition)) if p.code == "duplicate-port-name"}
    assert severities == {"warning"}


def test_a_generated_config_that_is_not_json_is_a_field_error_and_nothing_changes():
    composition = _app_on(8080)
    with pytest.raises(edits.EditError) as refused:
        edits.add_helper(composition, "config-merger", {"config_data": '{"logLevel": "info", '})
    assert "not valid JSON" in refused.value.errors["config_data"]
    assert composition.helpers == []
    helper = edits.add_helper(composition, "config-merger")
    with pytest.raises(edits.EditError):
        edits.update_params(composition, helper.id, {"config_data": "{'single': 'quotes'}"})
    assert "config_data" not in helper.params


def test_a_pattern_dropped_anywhere_lands_where_its_role_says():
    composition = _app_on(8080)
    tailer, note = edits.drop_helper(composition, "log-tailer", "sequence", 0)
    assert tailer.native_sidecar and "native sidecar" in note
    sysctl, note = edits.drop_helper(composition, "sysctl", "beside")
    assert "placed in the start-up sequence" in note
    exporter, note = edits.drop_helper(composition, "prometheus-exporter", "pod")
    assert note == "" and not exporter.native_sidecar
    placements = {item.helper.id: item.placement for item in build(composition).helpers}
    assert placements == {tailer.id: "native-sidecar", sysctl.id: "init", exporter.id: "container"}
    with pytest.raises(edits.EditError):
        edits.drop_helper(composition, "log-tailer", "roof")
    assert len(composition.helpers) == 3


def test_a_new_tls_terminator_is_added_to_the_service_unless_it_serves_that_port():
    composition = _app_on(9201)
    composition.options.service.enabled = True
    helper = edits.add_helper(composition, "tls-terminator", {"listen_port": 9200})
    assert helper.params["publish"] is True
    service = render(composition)[-2]
    assert {"name": "https", "port": 9200, "targetPort": "https"} in service["spec"]["ports"]
    already = _app_on(9201)
    already.options.service.ports = [{"name": "tls", "port": 9200, "targetPort": 9200}]
    assert edits.add_helper(already, "tls-terminator", {"listen_port": 9200}).params["publish"] is False
