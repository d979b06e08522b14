"""Tokens issued, scoped and revoked in the pages: shown once and stored hashed, a
service account with the chosen role and unit (so the API sees what that role sees on
screen), bounded by the issuer's own scope, logged, rate-limited, revoked at once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from minyi.api.models import ApiCall, ApiToken, hash_secret
from minyi.cases.models import Case
from minyi.org.models import HandlingUnit, OrgUnit
from minyi.people.models import Role, User
from minyi.studios.models import Studio
from tests.api.conftest import ApiClient
from tests.cases.helpers import register

pytestmark = pytest.mark.django_db


def _logged_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _issue(client: Client, **data: Any) -> Any:
    """The issue form posted as the page gives it (with its one-time key), the redirect
    followed to the page that shows the secret."""
    key = re.search(
        r'name="submission_key" value="([^"]+)"', client.get("/api-tokens/new/").content.decode()
    )
    data = {"submission_key": key.group(1) if key else "", **data}
    return client.post("/api-tokens/new/", data, follow=True)


def _secret(response: Any) -> str:
    match = re.search(r'value="(minyi_[^"]+)"', response.content.decode())
    assert match, "the token is shown on the page"
    return match.group(1)


def test_a_district_issues_a_street_token_shown_once_and_stored_hashed(world: Any) -> None:
    district = _logged_in("yantian")
    street = OrgUnit.objects.get(code="440308003")
    response = _issue(district, name="沙头角 12345 对接", role=Role.STREET_OFFICIAL, unit=street.pk)
    assert response.status_code == 200, response.content.decode()
    assert response["Cache-Control"] == "no-store"
    secret = _secret(response)
    token = ApiToken.objects.get(name="沙头角 12345 对接")
    # The way on says where it goes: a "查看令牌" under "无法再次查看" read as a way back
    # to the secret.
    issued = response.content.decode()
    assert f'href="/api-tokens/{token.pk}/">已保存，查看令牌的调用记录</a>' in issued
    assert ">查看令牌<" not in issued
    assert token.secret_hash == hash_secret(secret)
    assert secret not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert (
        token.created_by is not None
        and token.created_by.username == "yantian"
        and token.service_account
    )
    account = token.user
    assert (account.role, account.unit_id) == (Role.STREET_OFFICIAL, street.pk)
    assert not account.has_usable_password()
    # Never shown again: neither the list nor the token's page carries the secret.
    for url in ("/api-tokens/", f"/api-tokens/{token.pk}/"):
        page = district.get(url)
        assert page.status_code == 200 and secret not in page.content.decode()
    # It sees what 沙头角街道's department sees on screen, and nothing of 梅沙.
    case = register()
    api = ApiClient(secret)
    assert [c["id"] for c in api.get("/cases").json()["items"]] == [case.pk]
    studios = {s["id"] for s in api.get("/studios").json()["items"]}
    screen = set(
        Studio.objects.for_user(User.objects.get(username="shatoujiao"))
        .active()
        .values_list("pk", flat=True)
    )
    assert studios == screen


def _issue_form(client: Client) -> dict[str, Any]:
    street = OrgUnit.objects.get(code="440308003")
    key = re.search(
        r'name="submission_key" value="([^"]+)"', client.get("/api-tokens/new/").content.decode()
    )
    assert key, "the issue form carries a one-time key"
    return {
        "name": "沙头角 12345 对接",
        "role": Role.STREET_OFFICIAL,
        "unit": street.pk,
        "submission_key": key.group(1),
    }


def test_the_issued_page_reloaded_issues_nothing_and_shows_the_secret_no_more(
    world: Any,
) -> None:
    # Journey 9: the secret was the answer to the post, so reloading "令牌已签发"
    # re-sent the form and issued a second token whose secret nobody saw.
    district = _logged_in("yantian")
    posted = district.post("/api-tokens/new/", _issue_form(district))
    token = ApiToken.objects.get()
    assert posted.status_code == 302 and posted["Location"] == f"/api-tokens/{token.pk}/issued/"
    assert "minyi_" not in posted["Location"]
    shown = district.get(posted["Location"])
    assert shown["Cache-Control"] == "no-store"
    secret = _secret(shown)
    assert token.secret_hash == hash_secret(secret)
    again = district.get(posted["Location"])
    assert again.status_code == 200 and again["Cache-Control"] == "no-store"
    page = again.content.decode()
    assert secret not in page and "minyi_" not in page and "已经显示过一次" in page
    assert ApiToken.objects.count() == 1
    # Another administrator who cannot see the token gets no page at all.
    assert _logged_in("meisha").get(posted["Location"]).status_code == 404


def test_the_issue_form_sent_twice_issues_one_token(world: Any) -> None:
    # A double click: the same form, the same one-time key, posted twice.
    district = _logged_in("yantian")
    data = _issue_form(district)
    first = district.post("/api-tokens/new/", data)
    second = district.post("/api-tokens/new/", data)
    token = ApiToken.objects.get()
    assert User.objects.filter(username__startswith="api-").count() == 1
    assert first["Location"] == second["Location"] == f"/api-tokens/{token.pk}/issued/"
    # The browser shows the second answer: the first's secret, still in the session.
    secret = _secret(district.get(second["Location"]))
    assert token.secret_hash == hash_secret(secret)
    # The key of someone else's token: refused as an expired page, nothing of it shown.
    other = _logged_in("admin")
    refused = other.post("/api-tokens/new/", {**data, "name": "别人的"})
    assert refused.status_code == 409
    assert "页面已过期" in refused.content.decode() and "沙头角 12345 对接" not in (
        refused.content.decode()
    )
    assert ApiToken.objects.count() == 1
    # A post without a key (a page from before the keys): refused, nothing issued.
    stale = district.post("/api-tokens/new/", {**data, "submission_key": ""})
    assert stale.status_code == 400 and "页面已过期" in stale.content.decode()
    assert ApiToken.objects.count() == 1


def test_a_long_token_name_fits_its_account(world: Any) -> None:
    # The form allows 100 characters; the service account's name, built from it, holds
    # 50: PostgreSQL refused the longer one and the page answered 500.
    street = OrgUnit.objects.get(code="440308003")
    name = "沙头角街道" * 20
    response = _issue(_logged_in("yantian"), name=name, role=Role.STREET_OFFICIAL, unit=street.pk)
    assert response.status_code == 200
    account = ApiToken.objects.get(name=name).user
    limit = User._meta.get_field("full_name").max_length
    assert account.full_name.startswith("接口：沙头角街道") and len(account.full_name) == limit


def test_a_handling_unit_token_sees_only_cases_referred_to_it(world: Any, api: Any) -> None:
    unit = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
    response = _issue(
        _logged_in("shatoujiao"),
        name="城管办系统",
        role=Role.HANDLING_UNIT_STAFF,
        handling_unit=unit.pk,
    )
    token_api = ApiClient(_secret(response))
    case, other = register(), register(summary="另一件")
    assert token_api.get("/cases").json()["items"] == []
    api("liaison").post(f"/cases/{case.pk}/send")
    api("shatoujiao").post(f"/cases/{case.pk}/refer", {"handling_unit_id": unit.pk})
    assert [c["id"] for c in token_api.get("/cases").json()["items"]] == [case.pk]
    assert token_api.get(f"/cases/{other.pk}").status_code == 404
    answered = token_api.post(f"/cases/{case.pk}/answer", {"text": "已修复路灯。"})
    assert answered.status_code == 200, answered.content
    assert Case.objects.get(pk=case.pk).state == "answered"


@pytest.mark.parametrize(
    ("username", "data", "field"),
    [
        # 梅沙街道 may not give a token 沙头角's scope.
        ("meisha", {"role": Role.STREET_OFFICIAL, "unit": "440308003"}, "unit"),
        # Nor a district's reach from a street.
        ("meisha", {"role": Role.DISTRICT_OFFICIAL, "unit": "440308"}, "unit"),
        # The unit must fit the role.
        ("yantian", {"role": Role.DISTRICT_OFFICIAL, "unit": "440308003"}, "unit"),
        ("yantian", {"role": Role.STREET_OFFICIAL}, "unit"),
        ("yantian", {"role": Role.HANDLING_UNIT_STAFF}, "handling_unit"),
        # Liaisons and representatives are people, not integrations.
        ("yantian", {"role": Role.LIAISON}, "role"),
        ("yantian", {"role": Role.STREET_OFFICIAL, "unit": "440308003", "name": " "}, "name"),
    ],
)
def test_a_token_cannot_reach_further_than_its_issuer(
    world: Any, username: str, data: dict[str, Any], field: str
) -> None:
    data = {"name": "越权令牌", **data}
    if "unit" in data:
        data["unit"] = OrgUnit.objects.get(code=data["unit"]).pk
    response = _issue(_logged_in(username), **data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ApiToken.objects.exists()
    assert not User.objects.filter(username__startswith="api-").exists()


def test_revoking_stops_the_token_at_once_and_switches_off_its_account(world: Any) -> None:
    district = _logged_in("yantian")
    street = OrgUnit.objects.get(code="440308003")
    secret = _secret(_issue(district, name="待吊销", role=Role.STREET_OFFICIAL, unit=street.pk))
    token = ApiToken.objects.get(name="待吊销")
    api = ApiClient(secret)
    assert api.get("/studios").status_code == 200
    # 梅沙街道 cannot see or revoke 沙头角's token.
    meisha = _logged_in("meisha")
    assert meisha.get(f"/api-tokens/{token.pk}/").status_code == 404
    assert meisha.post(f"/api-tokens/{token.pk}/revoke/").status_code == 404
    assert api.get("/studios").status_code == 200
    response = district.post(f"/api-tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert api.get("/studios").status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None and not token.user.is_active
    page = district.get(f"/api-tokens/{token.pk}/").content.decode()
    assert "已于" in page and "/api/v1/studios" in page  # the call log is on the page
    assert list(
        ApiCall.objects.filter(path="/api/v1/studios")
        .order_by("pk")
        .values_list("token_id", "status")
    ) == [(token.pk, 200), (token.pk, 200), (None, 401)]


def test_only_those_who_manage_accounts_manage_tokens(world: Any) -> None:
    for username in ("liaison", "rep", "unit"):
        client = _logged_in(username)
        assert client.get("/api-tokens/").status_code == 404
        assert client.post("/api-tokens/new/", {"name": "x"}).status_code == 404


@override_settings(MINYI_API_RATE="3/m")
def test_each_token_has_its_own_rate_limit(api: Any) -> None:
    first, second = api("shatoujiao"), api("shatoujiao")
    statuses = [first.get("/studios").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = first.get("/studios")
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert limited["Retry-After"]
    assert "频繁" in limited.json()["message"]
    assert second.get("/studios").status_code == 200  # another token is not affected
    assert ApiCall.objects.filter(status=429).count() == 2


def test_the_token_pages_say_in_words_what_a_persons_token_covers(world: Any) -> None:
    """A token the command issued for a liaison or a representative acts as their own
    account, which has no unit: the list showed the account's username, which says
    nothing of what the token reaches. It names the studio, the stand-in's community,
    the representative and their studios, as a department's token names its unit; and
    more such tokens cost the list no more queries."""
    for username in ("liaison", "secretary", "rep", "unit"):
        ApiToken.issue(user=User.objects.get(username=username), name=f"对接 {username}")
    admin = _logged_in("admin")
    page = admin.get("/api-tokens/")
    cells = {
        token.name: scope
        for token in ApiToken.objects.all()
        for scope in re.findall(
            rf">{token.name}</a></td>\s*<td[^>]*>[^<]*</td>\s*<td[^>]*>([^<]*)</td>",
            page.content.decode(),
        )
    }
    liaison = User.objects.get(username="liaison").liaison
    assert cells["对接 liaison"] == f"沙头角社区党代表工作室（联络员：{liaison.name}）"
    assert cells["对接 secretary"] == "田心居委会（代行联络员：演示书记·吴刚）"  # the community
    assert cells["对接 rep"].startswith("党代表演示代表·陈明本人的履职和社情民意；工作室：")
    assert "沙头角社区党代表工作室" in cells["对接 rep"]
    assert cells["对接 unit"] == "沙头角街道城市管理办公室"
    assert ">liaison</td>" not in page.content.decode()
    token = ApiToken.objects.get(name="对接 liaison")
    assert cells["对接 liaison"] in admin.get(f"/api-tokens/{token.pk}/").content.decode()

    with CaptureQueriesContext(connection) as before:
        admin.get("/api-tokens/")
    for username in ("liaison", "rep"):
        ApiToken.issue(user=User.objects.get(username=username), name=f"再次 {username}")
    with CaptureQueriesContext(connection) as after:
        admin.get("/api-tokens/")
    assert len(after.captured_queries) == len(before.captured_queries)
