"""Account management by organisation departments: roles and scopes inside their area."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from minyi.org.models import HandlingUnit, OrgUnit
from minyi.people.models import Liaison, Representative, Role, User

pytestmark = pytest.mark.django_db
PASSWORD = "Shatoujiao-2026-ok"


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(user: User, data: dict, pk: int | None = None):
    url = reverse("people:account_edit", args=[pk]) if pk else reverse("people:account_create")
    return _client(user).post(url, {"is_active": "on", **data})


def test_a_street_official_creates_a_colleague_in_their_street(world, street_official):
    street = OrgUnit.objects.get(code="440308003")
    response = _post(
        street_official,
        {
            "username": "chen2",
            "full_name": "演示·新同事",
            "role": Role.STREET_OFFICIAL,
            "unit": street.pk,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    account = User.objects.get(username="chen2")
    assert account.unit == street and account.check_password(PASSWORD)
    assert Client().login(username="chen2", password=PASSWORD)


def test_a_liaison_account_is_linked_to_the_liaison_record(world, street_official):
    zhang = Liaison.objects.get(name="演示联络员·张伟")
    response = _post(
        street_official,
        {
            "username": "zhangwei",
            "role": Role.LIAISON,
            "liaison": zhang.pk,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    zhang.refresh_from_db()
    assert zhang.user.username == "zhangwei"


def test_a_handling_unit_account_gets_the_unit(world, street_official):
    unit = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
    _post(
        street_official,
        {
            "username": "cgb2",
            "role": Role.HANDLING_UNIT_STAFF,
            "handling_unit": unit.pk,
            "password": PASSWORD,
        },
    )
    assert User.objects.get(username="cgb2").handling_unit == unit


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"role": Role.STREET_OFFICIAL}, "unit", "须选择所属单位"),
        ({"role": Role.LIAISON}, "liaison", "须选择对应联络员"),
        ({"role": Role.DISTRICT_OFFICIAL, "unit": "street"}, "role", "请从列表中选择角色"),
        (
            {"role": Role.STREET_OFFICIAL, "unit": "street", "password": "12345678901"},
            "password",
            "密码只包含数字",
        ),
        ({"role": Role.STREET_OFFICIAL, "unit": "street", "password": "short"}, "password", "太短"),
    ],
)
def test_bad_accounts_are_refused_with_a_chinese_message(
    world, street_official, data, field, message
):
    street = OrgUnit.objects.get(code="440308003")
    payload = {"username": "bad", "password": PASSWORD, **data}
    if payload.get("unit") == "street":
        payload["unit"] = street.pk
    response = _post(street_official, payload)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not User.objects.filter(username="bad").exists()


def test_a_linked_person_cannot_get_a_second_account(world, street_official):
    lin = Liaison.objects.get(name="演示联络员·林芳")  # already has the `liaison` account
    response = _post(
        street_official,
        {
            "username": "lin2",
            "role": Role.LIAISON,
            "liaison": lin.pk,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "已有登录账号" in response.content.decode()


def test_an_official_cannot_give_a_scope_outside_their_area(world, outsider):
    shatoujiao = OrgUnit.objects.get(code="440308003")
    response = _post(
        outsider,
        {
            "username": "sneaky",
            "role": Role.STREET_OFFICIAL,
            "unit": shatoujiao.pk,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert not User.objects.filter(username="sneaky").exists()


def test_the_account_list_shows_only_accounts_of_the_area_and_never_superusers(
    world, street_official, outsider
):
    page = _client(street_official).get(reverse("people:account_list")).content.decode()
    assert "liaison" in page and "shatoujiao" in page
    assert ">admin<" not in page and "meisha" not in page
    other = _client(outsider).get(reverse("people:account_list")).content.decode()
    assert ">liaison<" not in other


def test_a_deactivated_account_loses_access_at_its_next_request(world, street_official):
    liaison_account = User.objects.get(username="liaison")
    client = Client()
    client.force_login(liaison_account)
    assert client.get("/").status_code == 200
    response = _post(
        street_official,
        {
            "username": "liaison",
            "role": Role.LIAISON,
            "liaison": Liaison.objects.get(user=liaison_account).pk,
            "is_active": "",
        },
        pk=liaison_account.pk,
    )
    assert response.status_code == 302
    liaison_account.refresh_from_db()
    assert not liaison_account.is_active
    assert client.get("/").status_code == 302  # sent to the login page


def test_editing_without_a_password_keeps_the_old_one(world, street_official):
    rep_account = User.objects.get(username="rep")
    old_hash = rep_account.password
    response = _post(
        street_official,
        {
            "username": "rep",
            "full_name": "改名",
            "role": Role.REPRESENTATIVE,
            "representative": Representative.objects.get(user=rep_account).pk,
        },
        pk=rep_account.pk,
    )
    assert response.status_code == 302
    rep_account.refresh_from_db()
    assert rep_account.password == old_hash and rep_account.full_name == "改名"


def test_a_unit_that_does_not_fit_the_role_is_refused(world, district_official):
    district = OrgUnit.objects.get(code="440308")
    response = _post(
        district_official,
        {
            "username": "bad",
            "password": PASSWORD,
            "role": Role.STREET_OFFICIAL,
            "unit": district.pk,
        },
    )
    assert response.status_code == 400
    assert "是区级单位，与角色不符" in response.content.decode()
    assert not User.objects.filter(username="bad").exists()


def test_the_account_list_says_what_each_account_reaches_in_fixed_queries(
    world, district_official, django_assert_num_queries
):
    """A liaison's or a representative's own account showed the person's name as its
    管辖范围; it now says the studio (or the stand-in's community, or the representative's
    studios), as the token pages do, however many such accounts the page lists."""
    from tests.core.test_query_counts import add_liaisons, add_representatives, queries_for
    from tests.personas import bump_as_if_committed

    client = _client(district_official)
    url = reverse("people:account_list")
    page = client.get(url).content.decode()
    assert "沙头角社区党代表工作室（联络员：演示联络员·林芳）" in page
    assert "党代表演示代表·陈明本人的履职和社情民意；工作室：沙头角社区党代表工作室" in page
    few = queries_for(client, url, {})
    add_liaisons(world, 6)
    add_representatives(world, 6)
    for n, liaison in enumerate(Liaison.objects.filter(user__isnull=True)[:6]):
        liaison.user = User.objects.create(username=f"l{n}", role=Role.LIAISON)
        liaison.save()
    for n, rep in enumerate(Representative.objects.filter(user__isnull=True)[:6]):
        rep.user = User.objects.create(username=f"r{n}", role=Role.REPRESENTATIVE)
        rep.save()
    bump_as_if_committed()  # the saves' cache bumps, as at their commit
    client.get(url)  # the kept scopes and accounts read afresh once
    with django_assert_num_queries(few):
        page = client.get(url).content.decode()
    assert "（代行联络员：书记" in page
