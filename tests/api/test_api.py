"""The open API: tokens, scoping by street, creation with idempotency, errors, cursor
pagination, masking, the deadline calculator and the OpenAPI document."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from minyi.api.models import ApiCall, ApiToken, IdempotencyKey
from minyi.cases.models import Case
from minyi.cases.states import CaseState
from minyi.people.models import Representative, User
from minyi.studios.models import Studio
from tests.api.conftest import ApiClient
from tests.cases.helpers import STUDIO, register

pytestmark = pytest.mark.django_db


def _body(**overrides: Any) -> dict[str, Any]:
    studio = Studio.objects.get(name=STUDIO)
    rep = Representative.objects.get(name="演示代表·陈明")
    body = {
        "studio_id": studio.pk,
        "representative_id": rep.pk,
        "channel": "other",
        "channel_note": "12345工单",
        "occasion": "reception",
        "received_on": "2026-03-04",
        "reporter_name": "演示居民·李阿姨",
        "reporter_phone": "13800005678",
        "summary": "小区路灯损坏",
        "content": "三栋门口路灯坏了两周，晚上出行不便。",
        "outcome": "sent_on",
    }
    body.update(overrides)
    return body


def _assert_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    data = response.json()
    assert set(data) == {"code", "message", "fields"}
    assert any("\u4e00" <= ch <= "\u9fff" for ch in data["message"]), data["message"]
    return data


# --- tokens ----------------------------------------------------------------------------


def test_missing_bad_and_revoked_tokens_are_401_and_logged(api: Any) -> None:
    _assert_error(ApiClient(None).get("/cases"), 401)
    _assert_error(ApiClient("nonsense").get("/cases"), 401)
    out = StringIO()
    call_command("api_token", "create", "--user", "shatoujiao", "--name", "12345", stdout=out)
    secret = out.getvalue().splitlines()[1]
    token = ApiToken.objects.get(name="12345")
    assert token.secret_hash != secret and secret not in token.secret_hash
    assert ApiClient(secret).get("/cases").status_code == 200
    call_command("api_token", "revoke", str(token.pk), stdout=StringIO())
    _assert_error(ApiClient(secret).get("/cases"), 401)
    calls = list(ApiCall.objects.order_by("pk").values_list("token_id", "status", "path"))
    assert calls == [
        (None, 401, "/api/v1/cases"),
        (None, 401, "/api/v1/cases"),
        (token.pk, 200, "/api/v1/cases"),
        (None, 401, "/api/v1/cases"),
    ]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_every_call_is_logged_with_its_token(api: Any) -> None:
    client = api("shatoujiao")
    client.get("/studios")
    client.get("/cases/999999")
    client.post("/cases", {"summary": ""})
    statuses = list(ApiCall.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == [200, 404, 422]
    assert ApiCall.objects.filter(token__isnull=True).count() == 0


# --- two streets -----------------------------------------------------------------------


def test_street_officials_see_only_their_own_street(api: Any) -> None:
    case = register()
    shatoujiao, meisha = api("shatoujiao"), api("meisha")

    own = shatoujiao.get("/cases").json()["items"]
    assert case.pk in [c["id"] for c in own]
    assert meisha.get("/cases").json()["items"] == []
    assert shatoujiao.get(f"/cases/{case.pk}").status_code == 200
    _assert_error(meisha.get(f"/cases/{case.pk}"), 404)
    _assert_error(meisha.post(f"/cases/{case.pk}/send"), 404)

    sha_studios = {s["name"] for s in shatoujiao.get("/studios").json()["items"]}
    mei_studios = {s["name"] for s in meisha.get("/studios").json()["items"]}
    assert STUDIO in sha_studios and STUDIO not in mei_studios
    assert not sha_studios & mei_studios
    expected = set(
        Studio.objects.for_user(User.objects.get(username="meisha")).values_list("name", flat=True)
    )
    assert mei_studios == expected

    sha_units = {u["id"] for u in shatoujiao.get("/handling-units").json()["items"]}
    mei_units = {u["id"] for u in meisha.get("/handling-units").json()["items"]}
    assert not sha_units & mei_units


def test_meisha_cannot_register_at_a_shatoujiao_studio(api: Any) -> None:
    response = api("meisha").post("/cases", _body(), **{"Idempotency-Key": "x1"})
    data = _assert_error(response, 422)
    assert "studio_id" in data["fields"]
    assert not Case.objects.exists()
    assert not IdempotencyKey.objects.exists()


# --- create and idempotency ------------------------------------------------------------


def test_create_returns_201_and_the_number(api: Any) -> None:
    response = api("liaison").post("/cases", _body())
    assert response.status_code == 201, response.content
    data = response.json()
    case = Case.objects.get()
    assert data["number"] == case.number and data["id"] == case.pk
    assert case.channel == "other" and case.channel_note == "12345工单"
    assert case.reporter_phone == "+8613800005678"
    assert case.state == CaseState.REGISTERED


def test_received_on_left_out_is_today_as_documented(api: Any) -> None:
    body = _body()
    del body["received_on"]
    response = api("liaison").post("/cases", body)
    assert response.status_code == 201, response.content
    assert response.json()["received_on"] == timezone.localdate().isoformat()
    assert api("liaison").post("/cases", _body(received_on=None)).status_code == 201


def test_idempotent_retry_returns_the_same_number_and_creates_nothing(api: Any) -> None:
    client = api("liaison")
    first = client.post("/cases", _body(), **{"Idempotency-Key": "abc-1"})
    again = client.post("/cases", _body(), **{"Idempotency-Key": "abc-1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["number"] == again.json()["number"]
    assert Case.objects.count() == 1
    other = client.post("/cases", _body(), **{"Idempotency-Key": "abc-2"})
    assert other.json()["number"] != first.json()["number"]
    assert Case.objects.count() == 2


def test_same_key_different_body_is_409(api: Any) -> None:
    client = api("liaison")
    client.post("/cases", _body(), **{"Idempotency-Key": "k"})
    data = _assert_error(
        client.post("/cases", _body(summary="另一件事"), **{"Idempotency-Key": "k"}), 409
    )
    assert data["code"] == "idempotency_conflict"
    assert Case.objects.count() == 1


def test_keys_belong_to_one_token(api: Any) -> None:
    first = api("liaison").post("/cases", _body(), **{"Idempotency-Key": "k"})
    second = api("liaison").post("/cases", _body(), **{"Idempotency-Key": "k"})
    assert first.json()["number"] != second.json()["number"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reporter_phone": "12345"}, "reporter_phone"),
        ({"reporter_phone": "0755-1234"}, "reporter_phone"),
        ({"summary": ""}, "summary"),
        ({"summary": "   "}, "summary"),
        ({"received_on": "2026-13-45"}, "received_on"),
        ({"received_on": "明天"}, "received_on"),
        ({"received_on": "2999-01-01"}, "received_on"),
        ({"channel_note": ""}, "channel_note"),
        ({"channel": "pigeon"}, "channel"),
        ({"reporter_age": 300}, "reporter_age"),
        ({"studio_id": 999999}, "studio_id"),
        ({"outcome": "on_the_spot"}, "spot_answer"),
    ],
)
def test_invalid_input_is_422_with_a_chinese_message(
    api: Any, overrides: dict[str, Any], field: str
) -> None:
    response = api("liaison").post("/cases", _body(**overrides), **{"Idempotency-Key": "bad"})
    data = _assert_error(response, 422)
    assert field in data["fields"], data
    assert not Case.objects.exists()
    assert not IdempotencyKey.objects.exists()
    if field == "channel":  # a choice not in a fixed list: the list comes with it
        assert "可选值：" in data["message"] and "in_person" in data["message"]


@pytest.mark.parametrize(
    "body",
    ["not json", "[1, 2]", '{"reporter_age": "old"}', '{"studio_id": "x"}', '"x"', "null"],
)
def test_malformed_bodies_are_4xx_json(api: Any, body: str) -> None:
    response = api("liaison").post("/cases", body)
    assert 400 <= response.status_code < 500
    _assert_error(response, response.status_code)
    assert not Case.objects.exists()


# --- workflow steps --------------------------------------------------------------------


def test_send_and_refer(api: Any) -> None:
    case = register()
    liaison, street = api("liaison"), api("shatoujiao")
    # Not yet sent: the street does not hold it, so referring is not its step (as on screen).
    _assert_error(street.post(f"/cases/{case.pk}/refer", {"handling_unit_id": 1}), 404)
    sent = liaison.post(f"/cases/{case.pk}/send", {"version": case.version})
    assert sent.status_code == 200, sent.content
    assert sent.json()["state"] == CaseState.AT_DEPARTMENT
    data = _assert_error(liaison.post(f"/cases/{case.pk}/send"), 409)
    assert data["code"] == "transition_not_allowed"
    # A step the role can never take is a 404, as on screen.
    _assert_error(liaison.post(f"/cases/{case.pk}/refer", {"handling_unit_id": 1}), 404)
    _assert_error(street.post(f"/cases/{case.pk}/refer", {"handling_unit_id": 999999}), 422)
    _assert_error(street.post(f"/cases/{case.pk}/refer", {}), 422)
    unit = User.objects.get(username="unit").handling_unit
    stale = street.post(f"/cases/{case.pk}/refer", {"handling_unit_id": unit.pk, "version": 1})
    assert _assert_error(stale, 409)["code"] == "case_changed"
    referred = street.post(f"/cases/{case.pk}/refer", {"handling_unit_id": unit.pk})
    assert referred.status_code == 200, referred.content
    assert referred.json()["state"] == CaseState.WITH_UNIT
    assert referred.json()["handling_unit_id"] == unit.pk


# --- pagination ------------------------------------------------------------------------


def test_cursor_pagination_survives_an_insert_between_pages(api: Any) -> None:
    cases = [register(summary=f"第{i}件") for i in range(7)]
    client = api("shatoujiao")
    first = client.get("/cases", {"limit": 3}).json()
    assert [c["id"] for c in first["items"]] == [c.pk for c in reversed(cases)][:3]
    newer = register(summary="翻页时新登记")
    seen = [c["id"] for c in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get("/cases", {"limit": 3, "cursor": cursor}).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen))
    assert seen == sorted((c.pk for c in cases), reverse=True)
    assert newer.pk not in seen
    assert client.get("/cases", {"limit": 3}).json()["items"][0]["id"] == newer.pk


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "!!!"},
        {"cursor": "aWQ6eA"},
        {"limit": 0},
        {"limit": 1000},
        {"state": "nope"},
        {"year": "x"},
    ],
)
def test_bad_list_parameters_are_422(api: Any, params: dict[str, Any]) -> None:
    _assert_error(api("shatoujiao").get("/cases", params), 422)


def test_list_filters(api: Any) -> None:
    case = register()
    client = api("shatoujiao")
    assert [c["id"] for c in client.get("/cases", {"state": "registered"}).json()["items"]] == [
        case.pk
    ]
    assert client.get("/cases", {"state": "closed"}).json()["items"] == []
    assert client.get("/cases", {"year": 2025}).json()["items"] == []
    assert len(client.get("/cases", {"studio": case.studio_id}).json()["items"]) == 1
    assert client.get("/cases", {"overdue": "true"}).json()["items"] == []


# --- masking ---------------------------------------------------------------------------


def test_lists_and_the_detail_mask_the_reporter_as_the_page_does(api: Any) -> None:
    from minyi.cases.models import PersonalDataView

    case = register(reporter_home_address="沙头角演示小区 3 栋 501", reporter_age=68)
    item = api("shatoujiao").get("/cases").json()["items"][0]
    assert item["reporter_phone"] != case.reporter_phone
    assert "5678" in item["reporter_phone"] and "*" in item["reporter_phone"]
    assert item["reporter_name"] != case.reporter_name
    response = api("shatoujiao").get(f"/cases/{case.pk}")
    detail = response.json()
    assert detail["reporter_phone"] == case.reporter_phone_masked != case.reporter_phone
    assert detail["reporter_name"] == case.reporter_name_masked != case.reporter_name
    assert detail["reporter_age"] == 68
    assert detail["reporter_home_address"] is None
    assert "沙头角演示小区" not in response.content.decode()
    assert detail["reporter_masked"] is True and detail["reporter_revealable"] is True
    # Nothing seen in full, nothing recorded: the full view is POST …/reveal.
    assert not PersonalDataView.objects.filter(case=case).exists()


def test_a_unit_the_reporter_hides_from_sees_no_reporter_data(api: Any) -> None:
    case = register(hide_identity_from_unit=True)
    liaison, street = api("liaison"), api("shatoujiao")
    liaison.post(f"/cases/{case.pk}/send")
    unit = User.objects.get(username="unit").handling_unit
    assert street.post(f"/cases/{case.pk}/refer", {"handling_unit_id": unit.pk}).status_code == 200
    detail = api("unit").get(f"/cases/{case.pk}")
    assert detail.status_code == 200
    data = detail.json()
    assert data["reporter_masked"] is True and data["reporter_revealable"] is False
    for key, value in data.items():
        if key.startswith("reporter_") and key not in ("reporter_masked", "reporter_revealable"):
            assert value is None, key
    assert case.reporter_home_address not in detail.content.decode()


# --- the reporter's full view (as the case page's 查看完整信息) ---------------------------


def test_the_full_view_shows_the_reporter_to_those_the_page_does_and_is_recorded(
    api: Any,
) -> None:
    from minyi.audit.models import Action, AuditEvent
    from minyi.cases.models import PersonalDataView

    case = register(reporter_home_address="沙头角演示小区 3 栋 501", reporter_age=68)
    response = api("shatoujiao").post(f"/cases/{case.pk}/reveal")
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    assert data["case_id"] == case.pk and data["number"] == case.number
    assert data["reporter_name"] == case.reporter_name
    # As the page shows it and as it was typed, not as stored (+8613800005678).
    assert case.reporter_phone == "+8613800005678"
    assert data["reporter_phone"] == "13800005678"
    assert data["reporter_home_address"] == "沙头角演示小区 3 栋 501"
    assert data["reporter_age"] == 68
    street = User.objects.get(username="shatoujiao")
    view = PersonalDataView.objects.get(case=case, purpose="开放接口查看反映人完整信息")
    assert view.viewer == street
    viewed = AuditEvent.objects.filter(action=Action.VIEW_PERSONAL, object_id=str(case.pk))
    assert viewed.filter(actor_id=street.pk, detail="开放接口查看反映人完整信息").exists()


def test_the_full_view_is_refused_as_the_page_refuses_it(api: Any, other_liaison: Any) -> None:
    from minyi.cases.models import PersonalDataView

    case = register(hide_identity_from_unit=True)
    api("liaison").post(f"/cases/{case.pk}/send")
    unit = User.objects.get(username="unit").handling_unit
    api("shatoujiao").post(f"/cases/{case.pk}/refer", {"handling_unit_id": unit.pk})
    PersonalDataView.objects.all().delete()
    # In scope but hidden from: 404, as the page's full view; another studio: out of scope.
    unit_client = api("unit")
    assert unit_client.get(f"/cases/{case.pk}").status_code == 200
    for client in (unit_client, other_liaison):
        body = _assert_error(client.post(f"/cases/{case.pk}/reveal"), 404)
        assert body["code"] == "not_found"
    _assert_error(ApiClient(None).post(f"/cases/{case.pk}/reveal"), 401)
    _assert_error(api("shatoujiao").post("/cases/x/reveal"), 422)
    _assert_error(api("shatoujiao").post("/cases/999999/reveal"), 404)
    assert not PersonalDataView.objects.exists()


# --- calendar and schema ---------------------------------------------------------------


def test_deadline(api: Any) -> None:
    response = api("shatoujiao").get("/calendar/deadline", {"date": "2025-09-26", "days": 10})
    assert response.json() == {"due": "2025-10-16", "provisional": False, "missing_years": []}
    far = api("shatoujiao").get("/calendar/deadline", {"date": "2040-01-02", "days": 3}).json()
    assert far["provisional"] is True and far["missing_years"] == [2040]


@pytest.mark.parametrize(
    "params",
    [
        {"date": "2025-02-30", "days": 3},
        {"date": "x", "days": 3},
        {"date": "2025-01-01", "days": 0},
        {"date": "2025-01-01", "days": -5},
        {"date": "2025-01-01", "days": "many"},
        {"date": "2025-01-01"},
        {"days": 3},
        {"date": "9999-12-31", "days": 366},
    ],
)
def test_bad_deadline_parameters_are_422(api: Any, params: dict[str, Any]) -> None:
    _assert_error(api("shatoujiao").get("/calendar/deadline", params), 422)


def test_a_deadline_asked_with_a_parameter_it_does_not_take_names_it(api: Any) -> None:
    """`?start=` for `?date=` was answered 请求内容格式不正确 with only `date` flagged,
    as if the caller had left it out: the message names the parameter not known and
    the ones the operation takes."""
    response = api("shatoujiao").get("/calendar/deadline", {"start": "2026-03-06", "days": 10})
    data = _assert_error(response, 422)
    assert data["message"] == (
        "不支持的查询参数：start；缺少查询参数：date。本接口的查询参数为 date、days，见接口文档。"
    )
    assert data["fields"] == {"start": ["不支持"], "date": ["缺少此查询参数。"]}
    missing = _assert_error(api("shatoujiao").get("/calendar/deadline", {"days": 3}), 422)
    assert missing["message"].startswith("缺少查询参数：date。")
    # A list's filters are named the same way when one of them is malformed.
    listed = _assert_error(api("shatoujiao").get("/cases", {"limit": "x", "stat": "open"}), 422)
    assert listed["message"].startswith("不支持的查询参数：stat。")


def test_openapi_document_and_docs_page(api: Any) -> None:
    client = ApiClient(None)
    schema = client.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert {
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/send",
        "/api/v1/cases/{case_id}/refer",
        "/api/v1/studios",
        "/api/v1/handling-units",
        "/api/v1/calendar/deadline",
    } <= paths
    docs = client.get("/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/api/v1/cases/{case_id}/refer" in html
    assert "cdn" not in html.lower() and "<script" not in html


def test_the_root_leads_to_the_document_and_an_unknown_path_is_a_json_404(api: Any) -> None:
    root = ApiClient(None).get("/")
    assert root.status_code == 302 and root["Location"] == "/api/v1/docs"
    client = api("yantian")
    for response in (
        client.get("/case"),
        client.get("/cases/"),
        client.post("/cases/1/escalte", {}),
        ApiClient(None).get("/nothing/here"),
    ):
        data = _assert_error(response, 404)
        assert data["code"] == "not_found" and "/api/v1/docs" in data["message"]
    assert ApiCall.objects.filter(path="/api/v1/case", status=404).exists()
    wrong_method = client.client.delete("/api/v1/cases", headers=client.headers)
    data = _assert_error(wrong_method, 405)
    assert data["code"] == "method_not_allowed" and "GET" in wrong_method["Allow"]


def test_an_unexpected_error_is_a_500_json_without_a_stack_trace(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("minyi.api.resources.add_workdays", boom)
    response = api("shatoujiao").get("/calendar/deadline", {"date": "2025-09-26", "days": 10})
    data = _assert_error(response, 500)
    assert data["code"] == "server_error"
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
