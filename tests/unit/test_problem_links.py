"""Each problem of a composition leads to the composer field at fault (or the helper's card)."""

from composer.domain import edits
from composer.domain.lint import lint
from composer.domain.model import AppContainer, Composition
from composer.domain.render import build
from composer.web.compositions.problem_links import problem_field


def _fields(composition: Composition) -> dict[str, str | None]:
    rendering = build(composition)
    return {problem.code: problem_field(problem, rendering) for problem in lint(rendering)}


def test_problems_lead_to_the_app_the_helper_param_or_the_pod_settings():
    composition = Composition(app=AppContainer(image="nginx", ports=[{"name": "http", "containerPort": 8080}]))
    edits.add_helper(composition, "health-endpoint", {"port": 8080})
    edits.add_helper(composition, "wait-for", {"host": "db"})
    composition.helpers[1].params["port"] = 99999  # stored before validation existed
    edits.change_kind(composition, "Job")
    composition.options.extra["restartPolicy"] = "Always"
    fields = _fields(composition)
    assert fields["latest-image"] == "app-image"
    assert fields["port-clash"] == "h1-port"
    assert fields["invalid-param"] == "h2-port"
    assert fields["job-regular-sidecar"] == "card-name-h1"
    assert fields["job-restart-policy"] == "pod-kind"

