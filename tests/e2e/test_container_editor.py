"""The container editor and the Volumes card in headless Chromium: declare a volume and mount it, set a probe
and a memory limit, a bad quantity explained beside its field, an imported Deployment's probes and
securityContext shown in the sections."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from composer.domain.model import AppContainer, Composition
from composer.models import SavedComposition
from tests.e2e.test_composer import open_composer, yaml_region

pytestmark = pytest.mark.django_db(transaction=True)

CORPUS = Path(__file__).parents[1] / "corpus"


def problems(page: Page):
    return page.get_by_role("list", name="Problems")


def app_card(page: Page):
    return page.locator("article.app-card")


def test_declare_an_empty_dir_then_mount_it_on_the_app(page: Page, live_server, screenshot):
    saved = open_composer(page, live_server, Composition(app=AppContainer(image="busybox:1.36")))
    page.get_by_text("Volumes", exact=True).click()
    adding = page.get_by_role("form", name="Add a volume")
    adding.get_by_label("New volume name").fill("data")
    expect(adding.get_by_label("Volume type")).to_have_value("emptyDir")
    expect(adding.get_by_label("Claim (PVC)")).to_be_hidden()  # only the chosen type's fields show
    adding.get_by_label("Size limit").fill("1Gi")
    adding.get_by_role("button", name="Add volume").click()

    expect(page.get_by_role("status")).to_contain_text("Added volume data")
    expect(yaml_region(page)).to_contain_text("sizeLimit: 1Gi")
    expect(page.get_by_role("list", name="Volumes of the Pod")).to_contain_text("No container mounts it yet.")
    expect(app_card(page).get_by_text("Volumes of the Pod: data.")).to_be_visible()  # the mount field's hint

    mounts = app_card(page).get_by_label("Volume mounts")
    mounts.fill("data /data")
    mounts.press("Tab")
    expect(yaml_region(page)).to_contain_text("mountPath: /data")
    expect(page.locator("#saved-state")).to_contain_text("r3")
    expect(page.locator("#problems-heading")).not_to_contain_text("error")
    expect(page.get_by_role("region", name="Preview", exact=True)).not_to_contain_text("missing-volume")
    yaml = yaml_region(page).inner_text()
    assert "volumeMounts:\n    - name: data\n      mountPath: /data" in yaml  # the app's mount …
    assert "volumes:\n  - name: data\n    emptyDir:\n      sizeLimit: 1Gi" in yaml  # … of the Pod's volume
    saved.refresh_from_db()
    assert saved.data["options"]["volumes"] == [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}]
    assert saved.data["app"]["volume_mounts"] == [{"name": "data", "mountPath": "/data"}]
    screenshot("volume-mounted")


def test_a_readiness_probe_and_a_memory_limit(page: Page, live_server, screenshot):
    app = AppContainer(image="nginx:1.27", ports=[{"name": "http", "containerPort": 80}])
    saved = open_composer(page, live_server, Composition(app=app))
    card = app_card(page)
    probes = card.get_by_text("Probes", exact=True)
    probes.click()
    readiness = card.get_by_role("group", name="Readiness probe")
    expect(readiness.get_by_label("Path")).to_be_hidden()  # nothing to check yet: only the choice shows
    readiness.get_by_label("Checks").select_option(label="HTTP GET")
    expect(yaml_region(page)).not_to_contain_text("readinessProbe")  # not saved: the port is needed
    expect(card.locator("#err-app-readinessProbe-port")).to_have_text("needed when it checks HTTP GET")
    readiness.get_by_label("Path").fill("/healthz")
    readiness.get_by_label("Port").fill("http")
    readiness.get_by_label("Port").press("Tab")
    expect(yaml_region(page)).to_contain_text("readinessProbe:")
    expect(yaml_region(page)).to_contain_text("path: /healthz")
    expect(card.locator("#err-app-readinessProbe-port")).to_have_text("")

    card.get_by_text("Resources", exact=True).click()
    limit = card.get_by_label("Memory limit")
    limit.fill("256Mi")
    limit.press("Tab")
    expect(yaml_region(page)).to_contain_text("memory: 256Mi")
    expect(page.locator("#problems-heading")).to_contain_text("none")
    saved.refresh_from_db()
    assert saved.data["app"]["extra"]["readinessProbe"] == {"httpGet": {"path": "/healthz", "port": "http"}}
    assert saved.data["app"]["resources"] == {"limits": {"memory": "256Mi"}}
    assert saved.revisions.order_by("-number").first().message == "edited the app container"
    card.get_by_text("Security", exact=True).click()
    card.get_by_text("Lifecycle", exact=True).click()
    card.get_by_text("Other fields", exact=True).click()
    page_shot = screenshot("sections-open")
    card.screenshot(path=str(page_shot.with_name(f"{page_shot.stem}-app-card.png")))  # the card alone, 1280 px page


def test_a_bad_quantity_is_explained_beside_its_field_and_not_saved(page: Page, live_server):
    saved = open_composer(page, live_server, Composition())
    card = app_card(page)
    card.get_by_text("Resources", exact=True).click()
    request = card.get_by_label("Memory request")
    request.fill("256MB")
    request.press("Tab")
    expect(card.locator("#err-app-requests-memory")).to_contain_text("MB is not a unit, write M or Mi")
    expect(page.locator("#saved-state")).to_contain_text("Not saved")
    expect(yaml_region(page)).not_to_contain_text("256MB")
    saved.refresh_from_db()
    assert saved.revision == 1
    request.fill("256Mi")
    request.press("Tab")
    expect(card.locator("#err-app-requests-memory")).to_have_text("")
    expect(yaml_region(page)).to_contain_text("memory: 256Mi")


def test_an_imported_deployment_shows_its_probes_and_security_context(page: Page, live_server, screenshot):
    page.goto(f"{live_server.url}/import")
    page.get_by_label("YAML").fill((CORPUS / "microservices-demo-checkoutservice.yaml").read_text())
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("region", name="Pod", exact=True)).to_be_visible()
    card = app_card(page)
    readiness = card.get_by_role("group", name="Readiness probe")
    expect(readiness).to_be_visible()  # the section is open: it holds something
    expect(readiness.get_by_label("Checks")).to_have_value("grpc")
    expect(readiness.get_by_label("Port")).to_have_value("5050")
    expect(card.get_by_role("group", name="Liveness probe").get_by_label("Checks")).to_have_value("grpc")
    expect(card.get_by_label("Allow privilege escalation")).to_have_value("false")
    expect(card.get_by_label("Read-only root filesystem")).to_have_value("true")
    expect(card.get_by_label("Drop capabilities")).to_have_value("ALL")
    expect(card.get_by_label("Privileged")).to_have_value("false")
    expect(card.get_by_label("CPU limit")).to_have_value("200m")
    expect(card.get_by_label("Other fields (YAML)")).to_be_hidden()  # nothing else: its section stays shut
    screenshot("imported")

    # an unrelated edit keeps every imported field as it was
    saved = SavedComposition.objects.get()
    before = saved.data["app"]
    card.get_by_label("Image", exact=True).fill("checkoutservice:v2")
    card.get_by_label("Image", exact=True).press("Tab")
    expect(yaml_region(page)).to_contain_text("image: checkoutservice:v2")
    saved.refresh_from_db()
    assert {**saved.data["app"], "image": before["image"]} == before
