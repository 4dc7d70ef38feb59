def test_add_helper_with_defaults_returns_201(api, saved):
    response = api.post(f"compositions/{saved.pk}/helpers", {"pattern": "log-tailer"})
    assert response.status_code == 201
    body = response.json()
    assert body["helper"] == {"id": "h1", "pattern": "log-tailer"}
    assert body["revision"] == 2
    manifest = api.get(f"compositions/{saved.pk}/manifest").content.decode()
    assert "tail" in manifest and "readOnly: true" in manifest


def test_add_helper_with_params_position_and_native_sidecar(api, saved):
    api.post(f"compositions/{saved.pk}/helpers", {"pattern": "sysctl"})
    response = api.post(f"compositions/{saved.pk}/helpers", {
        "pattern": "log-tailer", "params": {"log_dir": "/logs"}, "position": 0, "native_sidecar": True,
    })
    helpers = response.json()["composition"]["helpers"]
    assert [h["pattern"] for h in helpers] == ["log-tailer", "sysctl"]
    assert helpers[0]["native_sidecar"] is True


def test_bad_helper_requests_are_400_and_change_nothing(api, saved):
    for body in (
        {"pattern": "teleporter"},
        {"pattern": "wait-for", "params": {"port": "eighty"}},
        {"params": {}},
        {"pattern": "sysctl", "native_sidecar": True},
        {"pattern": "log-tailer", "position": "first"},
        {"pattern": "log-tailer", "colour": "blue"},
    ):
        response = api.post(f"compositions/{saved.pk}/helpers", body)
        assert response.status_code == 400, body
        assert response.json()["error"]
    saved.refresh_from_db()
    assert saved.revision == 1 and saved.data["helpers"] == []


def test_patch_params_move_and_remove(api, saved):
    for pattern in ("sysctl", "wait-for", "log-tailer"):
        api.post(f"compositions/{saved.pk}/helpers", {"pattern": pattern})
    patched = api.patch(f"compositions/{saved.pk}/helpers/h2", {"params": {"host": "db", "port": 5432}})
    assert patched.status_code == 200
    assert patched.json()["composition"]["helpers"][1]["params"] == {"host": "db"}
    moved = api.patch(f"compositions/{saved.pk}/helpers/h2", {"position": 0})
    assert [h["id"] for h in moved.json()["composition"]["helpers"]] == ["h2", "h1", "h3"]
    ordered = api.post(f"compositions/{saved.pk}/helpers/order", {"order": ["h3", "h1", "h2"]})
    assert [h["id"] for h in ordered.json()["composition"]["helpers"]] == ["h3", "h1", "h2"]
    removed = api.delete(f"compositions/{saved.pk}/helpers/h1")
    assert [h["id"] for h in removed.json()["composition"]["helpers"]] == ["h3", "h2"]
    assert api.delete(f"compositions/{saved.pk}/helpers/h1").status_code == 400


def test_reorder_must_name_every_helper(api, saved):
    api.post(f"compositions/{saved.pk}/helpers", {"pattern": "sysctl"})
    response = api.post(f"compositions/{saved.pk}/helpers/order", {"order": ["h1", "h1"]})
    assert response.status_code == 400
    assert api.post(f"compositions/{saved.pk}/helpers/order", {"order": "h1"}).status_code == 400
