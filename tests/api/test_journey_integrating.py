"""Journey 9, integrating: a district's IT staff gets an API token scoped to the
district, reads the OpenAPI document, pulls new cases, pushes a 12345 work order in as
a case with an idempotency key, and retries it safely."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from minyi.api.models import ApiCall, ApiToken
from minyi.cases.models import Case
from minyi.cases.services import case_register
from minyi.org.models import OrgUnit
from minyi.people.models import Representative, Role, User
from minyi.studios.models import Studio
from tests.api.conftest import ApiClient
from tests.cases.helpers import STUDIO, register, reporter_data
from tests.core.helpers import found

pytestmark = pytest.mark.django_db


def _pull_new(api: ApiClient, known: set[int]) -> list[dict[str, Any]]:
    """What an integration does on each poll: newest first, page by page, until it
    reaches cases it already has."""
    new: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/cases", params).json()
        for item in page["items"]:
            if item["id"] in known:
                return new
            new.append(item)
        cursor = page["next_cursor"]
        if not cursor:
            return new


def test_a_district_integrates_its_12345_platform(world: Any) -> None:
    # The district's organisation department issues a token for its IT staff.
    department = Client()
    department.force_login(User.objects.get(username="yantian"))
    district = OrgUnit.objects.get(code="440308")
    issued = department.post(
        "/api-tokens/new/",
        {
            "name": "盐田区 12345 平台",
            "role": Role.DISTRICT_OFFICIAL,
            "unit": district.pk,
            "submission_key": found(
                r'name="submission_key" value="([^"]+)"',
                department.get("/api-tokens/new/").content.decode(),
            ),
        },
        follow=True,
    )
    assert issued.status_code == 200
    secret = found(r'value="(minyi_[^"]+)"', issued.content.decode())
    api = ApiClient(secret)

    # The IT staff read the OpenAPI document (public) and find what they need.
    schema = ApiClient(None).get("/openapi.json").json()
    create = schema["paths"]["/api/v1/cases"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert "/api/v1/cases/{case_id}/answer" in schema["paths"]

    # Pull: both streets of the district, nothing of another district.
    sha = register()
    mei = case_register(
        actor=User.objects.get(username="meisha"),
        studio=Studio.objects.get(name="大梅沙社区党代表工作室"),
        representative=Representative.objects.get(name="演示代表·黄海"),
        data=reporter_data(summary="梅沙的停车问题"),
    )
    first = _pull_new(api, set())
    assert {c["id"] for c in first} == {sha.pk, mei.pk}
    assert all("*" in c["reporter_phone"] for c in first)  # masked in lists
    known = {c["id"] for c in first}
    assert _pull_new(api, known) == []

    # Push a 12345 work order as a case, with the work order's number as the key.
    work_order = {
        "studio_id": Studio.objects.get(name=STUDIO).pk,
        "representative_id": Representative.objects.get(name="演示代表·陈明").pk,
        "channel": "other",
        "channel_note": "12345 热线工单 GD20260304-0012",
        "occasion": "other",
        "received_on": "2026-03-04",
        "reporter_name": "演示市民·周女士",
        "reporter_phone": "13800004321",
        "summary": "海景路人行道破损",
        "content": "海景路 12 号门前人行道地砖破损，老人出行易绊倒。",
    }
    key = {"Idempotency-Key": "12345-GD20260304-0012"}
    pushed = api.post("/cases", work_order, **key)
    assert pushed.status_code == 201, pushed.content
    number = pushed.json()["number"]
    assert number.startswith("沙头角街道沙头角社区")

    # The network dropped the answer: the platform retries, twice. One case only.
    for _ in range(2):
        again = api.post("/cases", work_order, **key)
        assert again.status_code == 201
        assert again.json()["number"] == number
    assert Case.objects.filter(channel_note__contains="GD20260304-0012").count() == 1
    # The same key with a different work order is refused, not silently replayed.
    changed = api.post("/cases", {**work_order, "summary": "另一件事"}, **key)
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_conflict"

    # The next poll brings the pushed case, once.
    assert [c["number"] for c in _pull_new(api, known)] == [number]

    # Every call is in the token's log, which the department reads on the token's page.
    token = ApiToken.objects.get(name="盐田区 12345 平台")
    statuses = list(
        ApiCall.objects.filter(token=token, method="POST")
        .order_by("pk")
        .values_list("status", flat=True)
    )
    assert statuses == [201, 201, 201, 409]
    page = department.get(f"/api-tokens/{token.pk}/").content.decode()
    assert page.count("/api/v1/cases") >= 4
