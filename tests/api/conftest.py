"""Tokens for the API tests: one per persona, issued the way the command issues them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from minyi.api.models import ApiToken
from minyi.people.models import User
from tests.personas import world  # noqa: F401


class ApiClient:
    def __init__(self, secret: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def get(self, path: str, params: dict | None = None, **headers: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params or {}, headers={**self.headers, **headers})

    def post(self, path: str, body: Any = None, **headers: Any) -> Any:
        return self.client.post(
            f"/api/v1{path}",
            body if isinstance(body, str) else ({} if body is None else body),
            content_type="application/json",
            headers={**self.headers, **headers},
        )


def api_for(username: str) -> ApiClient:
    user = User.objects.get(username=username)
    _token, secret = ApiToken.issue(user=user, name=f"测试 {username}")
    return ApiClient(secret)


@pytest.fixture
def api(world: Any):  # noqa: F811
    return api_for
