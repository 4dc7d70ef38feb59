import json

import pytest

from composer.domain.model import Composition
from composer.models import SavedComposition


class Api:
    """The Django test client speaking the API's JSON and YAML."""

    def __init__(self, client):
        self.client = client

    def get(self, path, **params):
        return self.client.get(f"/api/v1/{path}", params)

    def post(self, path, body=None, content_type="application/json"):
        data = json.dumps(body) if content_type == "application/json" and not isinstance(body, str) else body
        return self.client.post(f"/api/v1/{path}", data=data, content_type=content_type)

    def patch(self, path, body):
        return self.client.patch(f"/api/v1/{path}", data=json.dumps(body), content_type="application/json")

    def put(self, path, body):
        return self.client.put(f"/api/v1/{path}", data=json.dumps(body), content_type="application/json")

    def delete(self, path):
        return self.client.delete(f"/api/v1/{path}")


@pytest.fixture
def api(client, db):
    return Api(client)


@pytest.fixture
def saved(db):
    return SavedComposition.create(Composition())
