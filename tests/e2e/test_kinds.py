"""Workload kinds and several workloads in one file, in headless Chromium."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from composer.domain.model import Composition
from composer.models import SavedComposition
from tests.e2e.test_composer import open_composer, yaml_region

pytestmark = pytest.mark.django_db(transaction=True)
NUMBERS = Path(__file__).parents[1] / "corpus" / "kiamol-ch07-numbers-folder.yaml"


def test_choose_a_cron_job_and_edit_its_schedule(page: Page, live_server, screenshot):
    open_composer(page, live_server, Composition())
    page.get_by_text("Pod settings").click()
    page.get_by_label("Workload kind").select_option("CronJob")
    expect(yaml_region(page)).to_contain_text("kind: CronJob")
    expect(yaml_region(page)).to_contain_text("restartPolicy: Never")
    schedule = page.get_by_label("Schedule")
    expect(schedule).to_have_value("*/5 * * * *")
    expect(page.get_by_label("Replicas")).to_have_count(0)
    schedule.fill("0 3 * * *")
    schedule.press("Tab")
    expect(yaml_region(page)).to_contain_text("schedule: 0 3 * * *")
    page.get_by_label("Concurrency").select_option("Forbid")
    expect(yaml_region(page)).to_contain_text("concurrencyPolicy: Forbid")
    screenshot("cron-job")
    backoff = page.get_by_label("Back-off limit")
    backoff.fill("-2")
    backoff.press("Tab")
    # The browser refuses it before sending (min=0); the server would too (tests/web).
    assert backoff.evaluate("field => field.validity.rangeUnderflow")
    assert SavedComposition.objects.get().data["workload"]["extra"] == {
        "schedule": "0 3 * * *", "concurrencyPolicy": "Forbid"}
    expect(page.locator("#saved-state")).to_contain_text("r4")
    backoff.fill("2")
    backoff.press("Tab")
    expect(yaml_region(page)).to_contain_text("backoffLimit: 2")
    page.get_by_label("Workload kind").select_option("StatefulSet")
    expect(page.get_by_label("Headless Service")).to_have_value("my-app")
    expect(page.get_by_label("Replicas")).to_be_visible()
    expect(yaml_region(page)).to_contain_text("clusterIP: None")
    expect(yaml_region(page)).not_to_contain_text("schedule")


def test_import_a_folder_of_two_workloads(page: Page, live_server, screenshot):
    page.goto(f"{live_server.url}/import")
    page.get_by_label("YAML").fill(NUMBERS.read_text())
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Imported 2 compositions")).to_be_visible()
    screenshot("imported-two")
    page.get_by_role("link", name="Deployment numbers-web").click()
    expect(page.get_by_role("region", name="Pod", exact=True)).to_be_visible()
    expect(yaml_region(page)).to_contain_text("type: LoadBalancer")
    expect(yaml_region(page)).not_to_contain_text("numbers-api")
