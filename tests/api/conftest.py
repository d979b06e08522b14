"""Tokens for the API tests: one per persona, issued the way the command issues them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from minyi.api.models import ApiToken
from minyi.people.models import Liaison, Role, User
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


@pytest.fixture
def other_liaison(world: Any) -> ApiClient:  # noqa: F811
    """演示联络员·赵敏 of 大梅沙社区党代表工作室 (demo data), given an account and a token:
    another studio's liaison."""
    user = User.objects.create_user(username="zhaomin", role=Role.LIAISON, full_name="赵敏")
    Liaison.objects.filter(name="演示联络员·赵敏").update(user=user)
    return api_for("zhaomin")


def refused(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """The error body, after checking its status, its Chinese message and the field."""
    assert response.status_code == status, response.content.decode()
    data = response.json()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in data["message"]), data
    if field:
        assert field in data["fields"], data
    return data
