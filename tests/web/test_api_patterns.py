from composer.domain.patterns import CATALOG


def test_lists_every_pattern_with_its_parameters(api):
    response = api.get("patterns")
    assert response.status_code == 200
    patterns = {p["id"]: p for p in response.json()["patterns"]}
    assert set(patterns) == set(CATALOG)
    tailer = patterns["log-tailer"]
    assert tailer["role"] == "sidecar" and tailer["native_sidecar_capable"] is True
    assert tailer["title"] and tailer["summary"]
    log_dir = next(p for p in tailer["params"] if p["name"] == "log_dir")
    assert log_dir == {
        "name": "log_dir", "label": "Log directory", "type": "path", "default": "/var/log/app",
        "help": "Where the app writes its log files.", "optional": False,
    }
    assert patterns["sysctl"]["native_sidecar_capable"] is False


def test_only_get_is_allowed(api):
    response = api.post("patterns", {})
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert "not allowed" in response.json()["error"]
