"""Home, import, delete, duplicate and history pages."""

from pathlib import Path

from composer.domain.examples import EXAMPLES
from composer.models import SavedComposition


def test_home_lists_compositions_and_every_gallery_example(client, saved):
    html = client.get("/").content.decode()
    assert saved.name in html and "New composition" in html
    for example in EXAMPLES:
        assert f"Open example {example.title}" in html


def test_no_template_comment_shows_on_a_page(client, saved):
    # Django's {# #} ends at the line's end: a comment over two lines is page text.
    for path in ("/", "/import", saved.get_absolute_url()):
        html = client.get(path).content.decode()
        assert "{#" not in html and "#}" not in html, path


def test_new_composition_asks_for_a_name_and_an_image_first(client, db):
    form = client.get("/new").content.decode()
    assert 'name="name"' in form and 'name="image"' in form and "Nothing is saved until" in form
    refused = client.post("/new", {"name": "Shop!", "image": ""})
    html = refused.content.decode()
    assert refused.status_code == 400 and 'value="Shop!"' in html
    assert "required: the app&#x27;s image" in html and 'id="err-new-name"' in html
    assert SavedComposition.objects.count() == 0
    response = client.post("/new", {"name": "shop", "image": "registry.example.com/shop:2.1", "kind": "Deployment"})
    saved = SavedComposition.objects.get()
    assert response.url == saved.get_absolute_url()
    assert (saved.name, saved.data["workload"]["kind"], saved.data["app"]["image"]) == (
        "shop", "Deployment", "registry.example.com/shop:2.1")
    assert saved.data["workload"]["labels"] == {"app": "shop"}


def test_the_home_list_finds_compositions_by_name(client, db):
    for name in ("shop-web", "shop-api", "billing"):
        client.post("/new", {"name": name, "image": "nginx:1.27"})
    page = client.get("/", {"q": "SHOP"}).content.decode()
    assert ">shop-web</a>" in page and ">shop-api</a>" in page and ">billing</a>" not in page
    partial = client.get("/", {"q": "bill"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="composition-list")
    html = partial.content.decode()
    assert html.startswith('<div id="composition-list">') and ">billing</a>" in html and "Examples gallery" not in html
    assert "No composition's name contains “nothing”" in client.get("/", {"q": "nothing"}).content.decode()


def test_opening_an_example_creates_a_draft(client, db):
    example = client.post(f"/examples/{EXAMPLES[0].id}")
    saved = SavedComposition.objects.get(name="scratch")
    assert example.url == saved.get_absolute_url()
    assert saved.revisions.get().message == "from example 'Shared scratch volume'"
    assert client.post("/examples/nope").status_code == 404


def test_import_page_saves_a_composition_and_shows_warnings(client, db):
    yaml_text = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: web, image: nginx:1.27}\n"
    )
    response = client.post("/import", {"yaml": yaml_text})
    saved = SavedComposition.objects.get()
    assert response.url == saved.get_absolute_url()
    page = client.get(saved.get_absolute_url()).content.decode()
    assert "Imported with notes" in page and "never stores Secrets" in page
    assert "Imported with notes" not in client.get(saved.get_absolute_url()).content.decode()


NUMBERS = Path(__file__).parents[1] / "corpus" / "kiamol-ch07-numbers-folder.yaml"


def test_a_file_of_two_workloads_creates_two_compositions_and_lists_them_once(client, db):
    response = client.post("/import", {"yaml": NUMBERS.read_text()})
    assert response.status_code == 302 and response.url == "/import/created"
    api, web = SavedComposition.objects.order_by("pk")
    assert (api.name, web.name) == ("numbers-api", "numbers-web")
    assert api.revisions.get().message == "imported from YAML with 1 more"
    page = client.get(response.url).content.decode()
    assert "Imported 2 compositions" in page
    assert f'href="{api.get_absolute_url()}">Deployment numbers-api</a>' in page
    assert f'href="{web.get_absolute_url()}">Deployment numbers-web</a>' in page
    assert "Service numbers-web" in page
    # Once: a reload goes to the list of compositions.
    assert client.get(response.url).url == "/"


def test_a_file_with_one_bad_workload_saves_none(client, db):
    bad = NUMBERS.read_text().replace("image: kiamol/ch03-numbers-api", "image: ''")
    response = client.post("/import", {"yaml": bad})
    assert response.status_code == 400 and "Nothing was imported" in response.content.decode()
    assert SavedComposition.objects.count() == 0


def test_import_errors_keep_the_text_and_save_nothing(client, db):
    response = client.post("/import", {"yaml": "kind: Pod\n  bad: indent\n"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was imported" in html and "line 2" in html and "bad: indent" in html
    assert client.post("/import", {"yaml": "  "}).status_code == 400
    assert SavedComposition.objects.count() == 0


def test_import_by_upload(client, db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    pod = b"kind: Pod\nmetadata: {name: up}\nspec: {containers: [{name: a, image: b:1}]}\n"
    upload = SimpleUploadedFile("pod.yaml", pod)
    response = client.post("/import", {"file": upload})
    assert response.status_code == 302 and SavedComposition.objects.get().name == "up"
    latin = SimpleUploadedFile("bad.yaml", "name: caf\xe9".encode("latin-1"))
    assert "not UTF-8" in client.post("/import", {"file": latin}).content.decode()


def test_delete_asks_first_then_deletes(client, saved):
    confirm = client.get(f"/c/{saved.pk}/delete").content.decode()
    assert "Delete for good" in confirm
    assert SavedComposition.objects.filter(pk=saved.pk).exists()
    client.post(f"/c/{saved.pk}/delete")
    assert not SavedComposition.objects.filter(pk=saved.pk).exists()


def test_duplicate_copies_the_composition(client, saved):
    response = client.post(f"/c/{saved.pk}/duplicate")
    copy = SavedComposition.objects.exclude(pk=saved.pk).get()
    assert response.url == copy.get_absolute_url() and copy.data == saved.data


def test_history_lists_revisions_and_restore_makes_a_new_one(client, saved):
    client.post(f"/c/{saved.pk}/helpers/add", {"pattern": "sysctl"}, HTTP_HX_REQUEST="true")
    html = client.get(f"/c/{saved.pk}/history").content.decode()
    assert "added sysctl" in html and "Restore revision 1" in html
    response = client.post(f"/c/{saved.pk}/revisions/1/restore")
    saved.refresh_from_db()
    assert response.status_code == 302 and saved.revision == 3 and saved.data["helpers"] == []
    assert client.post(f"/c/{saved.pk}/revisions/99/restore", HTTP_HX_REQUEST="true").status_code == 400


def test_unknown_composition_pages_are_404(client, db):
    for url in ("/c/999/", "/c/999/history", "/c/999/delete"):
        assert client.get(url).status_code == 404


def test_a_custom_helper_of_a_well_known_image_is_named_and_explained(client, db):
    injected = ("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"
                "  - {name: web, image: nginx:1.27}\n  - {name: istio-proxy, image: docker.io/istio/proxyv2:1.22.0}\n")
    client.post("/import", {"yaml": injected})
    page = client.get(SavedComposition.objects.get(name="web").get_absolute_url()).content.decode()
    assert "Istio proxy · custom" in page
    assert "Envoy injected by Istio: carries the Pod&#x27;s traffic through the mesh." in page
