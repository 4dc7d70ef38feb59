"""Typing in a field makes one revision, not one per change: field edits of the same fields soon after
one another join the newest revision (which takes the new number, so other tabs still see the change)."""

from datetime import timedelta

from composer.models import COALESCE_SECONDS, DeployRecord, Revision, SavedComposition


def edit_app(client, saved, revision, **fields):
    form = {"name": "app", "image": "nginx:1.27", **fields}
    return client.post(f"/c/{saved.pk}/app", form, HTTP_HX_REQUEST="true", HTTP_IF_MATCH=f'"{revision}"')


def numbers(saved) -> list[int]:
    return sorted(saved.revisions.values_list("number", flat=True))


def test_a_burst_of_edits_of_one_field_is_one_revision(client, saved):
    for revision, image in enumerate(["nginx:1", "nginx:1.2", "nginx:1.27-alpine"], start=1):
        assert edit_app(client, saved, revision, image=image).status_code == 200
    saved.refresh_from_db()
    assert saved.revision == 4 and numbers(saved) == [1, 4]
    newest = saved.revisions.get(number=4)
    assert (newest.message, newest.data["app"]["image"]) == ("edited the app container", "nginx:1.27-alpine")
    # A tab still showing revision 2 is refused, as for any edit made since.
    assert edit_app(client, saved, 2, image="busybox:1.36").status_code == 409


def test_an_edit_of_another_field_starts_a_revision_of_its_own(client, saved):
    edit_app(client, saved, 1, image="nginx:1")
    edit_app(client, saved, 2, image="nginx:1", args="-g\ndaemon off;")
    saved.refresh_from_db()
    assert numbers(saved) == [1, 2, 3]


def test_a_pause_or_a_deploy_ends_the_burst(client, saved):
    edit_app(client, saved, 1, image="nginx:1")
    Revision.objects.filter(composition=saved, number=2).update(
        created=Revision.objects.get(composition=saved, number=2).created - timedelta(seconds=COALESCE_SECONDS + 1))
    edit_app(client, saved, 2, image="nginx:1.2")
    DeployRecord.objects.create(composition=saved, composition_name="my-app", revision=3, action="deploy",
                                context="kind-dev", namespace="default", user="root", manifest_yaml="",
                                outcome="succeeded")
    edit_app(client, saved, 3, image="nginx:1.27")
    saved.refresh_from_db()
    assert numbers(saved) == [1, 2, 3, 4]  # the deployed revision 3 is kept as deployed


def test_undo_after_a_burst_goes_back_to_before_it(client, saved):
    for revision, image in enumerate(["nginx:1", "nginx:1.2"], start=1):
        edit_app(client, saved, revision, image=image)
    response = client.post(f"/c/{saved.pk}/revisions/1/restore", HTTP_HX_REQUEST="true", HTTP_IF_MATCH='"3"')
    assert response.status_code == 200
    saved = SavedComposition.objects.get(pk=saved.pk)
    assert saved.data["app"]["image"] == "nginx:1.27" and saved.revisions.get(number=4).message == "restored revision 1"
