"""Household visits (CM 4): recorded by the representative, their studio's liaison or
a department in scope, never dated in the future; the address is masked in lists and
on the visit's page, shown in full only on request to those in scope, and every such
view is recorded."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minyi.duties.compliance import evaluate, make_rules
from minyi.duties.models import HouseholdVisit
from minyi.duties.record import duty_record
from minyi.duties.visits import household_visit_record, mask_address
from minyi.people.models import Representative
from minyi.studios.models import Studio
from tests.api.conftest import api_for
from tests.core.helpers import client_for, opened_values, text_of

ADDRESS = "沙头角演示小区 3 栋 501"


def visit_data(world, **overrides):
    data = {
        "representative": Representative.objects.get(name="演示代表·陈明").pk,
        "community": world["440308003006"].pk,
        "visited_on": "2026-03-04",
        "household": "演示·王先生家",
        "address": ADDRESS,
        "notes": "了解老旧小区加装电梯的意见",
        "submission_key": str(uuid4()),  # a blank form's one-time key (minyi.core.once)
    }
    data.update(overrides)
    return data


def test_a_representative_records_a_visit_and_sees_the_full_address_on_its_page(
    world, representative
):
    client = client_for(representative)
    response = client.post(reverse("duties:visit_create"), visit_data(world))
    assert response.status_code == 302
    visit = HouseholdVisit.objects.get()
    assert visit.recorded_by == representative
    page = text_of(client.get(response["Location"]))
    assert ADDRESS not in page and "查看完整住址" in page
    assert ADDRESS in text_of(client.post(response["Location"]))
    assert visit.address_views.get().viewer == representative
    listing = text_of(client.get(reverse("duties:visit_list")))
    assert "沙头角演示小****" in listing and ADDRESS not in listing


def test_a_visit_in_the_future_is_refused_in_chinese_and_nothing_is_saved(world, representative):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client_for(representative).post(
        reverse("duties:visit_create"), visit_data(world, visited_on=tomorrow.isoformat())
    )
    assert response.status_code == 400
    html = text_of(response)
    assert "走访日期不能晚于今天" in html and 'href="#id_visited_on"' in html
    assert not HouseholdVisit.objects.exists()


def test_a_department_records_only_for_its_representatives_and_communities(
    world, street_official, outsider
):
    chen = Representative.objects.get(name="演示代表·陈明")
    ok = household_visit_record(
        actor=street_official,
        representative=chen,
        community=world["440308003009"],
        visited_on=date(2026, 3, 4),
        household="演示·李女士家",
        address="田心演示花园 1 栋",
    )
    assert ok.pk
    with pytest.raises(ValidationError) as excinfo:
        household_visit_record(
            actor=outsider,
            representative=chen,
            community=world["440308001006"],
            visited_on=date(2026, 3, 4),
            household="演示·张先生家",
            address="大梅沙演示村",
        )
    assert "representative" in excinfo.value.error_dict
    with pytest.raises(ValidationError) as excinfo:
        household_visit_record(
            actor=street_official,
            representative=chen,
            community=world["440308001006"],  # 梅沙街道: not the street's
            visited_on=date(2026, 3, 4),
            household="演示·张先生家",
            address="大梅沙演示村",
        )
    assert "community" in excinfo.value.error_dict
    assert HouseholdVisit.objects.count() == 1


def test_a_liaison_records_a_visit_for_a_representative_of_their_studio(world, liaison):
    client = client_for(liaison)
    form = text_of(client.get(reverse("duties:visit_create")))
    # Only the studio's representatives and the studio's community are offered.
    assert "演示代表·陈明" in form and "演示代表·黄海" not in form
    assert "沙头角社区" in form and "大梅沙社区" not in form and "田心社区" not in form
    response = client.post(reverse("duties:visit_create"), visit_data(world))
    assert response.status_code == 302
    visit = HouseholdVisit.objects.get()
    assert visit.representative.name == "演示代表·陈明"
    assert visit.recorded_by == liaison
    # The address stays masked until asked for, and asking is recorded.
    page = text_of(client.get(response["Location"]))
    assert ADDRESS not in page and "查看完整住址" in page
    assert ADDRESS in text_of(client.post(response["Location"]))
    assert visit.address_views.get().viewer == liaison


def test_a_liaison_cannot_record_for_a_representative_of_another_studio(world, liaison):
    huang = Representative.objects.get(name="演示代表·黄海")  # 大梅沙社区党代表工作室
    response = client_for(liaison).post(
        reverse("duties:visit_create"),
        visit_data(world, representative=huang.pk, community=world["440308001006"].pk),
    )
    assert response.status_code == 400
    assert "只能为进驻本工作室的党代表登记入户走访" in text_of(response)
    with pytest.raises(ValidationError) as excinfo:
        household_visit_record(
            actor=liaison,
            representative=huang,
            community=world["440308001006"],
            visited_on=date(2026, 3, 4),
            household="演示·张先生家",
            address="大梅沙演示村",
        )
    assert excinfo.value.error_dict["representative"][0].messages == [
        "只能为进驻本工作室的党代表登记入户走访。"
    ]
    assert not HouseholdVisit.objects.exists()


def test_a_liaison_records_only_in_the_studio_s_area(world, liaison):
    # 田心社区 is 陈明's neighbour, but not where 沙头角社区党代表工作室 is.
    response = client_for(liaison).post(
        reverse("duties:visit_create"),
        visit_data(world, community=world["440308003009"].pk),
    )
    assert response.status_code == 400
    assert "请选择本工作室所在区域内的社区" in text_of(response)
    assert not HouseholdVisit.objects.exists()


def test_a_liaison_may_change_the_visits_of_their_studio_s_representatives_only(
    world, liaison, district_official
):
    chen = Representative.objects.get(name="演示代表·陈明")
    huang = Representative.objects.get(name="演示代表·黄海")
    for rep, community in ((chen, "440308003006"), (huang, "440308001006")):
        household_visit_record(
            actor=district_official,
            representative=rep,
            community=world[community],
            visited_on=date(2026, 3, 4),
            household=f"演示·{rep.name}走访",
            address=ADDRESS,
        )
    editable = HouseholdVisit.objects.for_editor(liaison)
    assert [v.representative.name for v in editable] == ["演示代表·陈明"]


def test_a_visit_the_liaison_records_counts_in_the_record_and_compliance(world, liaison):
    client_for(liaison).post(reverse("duties:visit_create"), visit_data(world))
    chen = Representative.objects.get(name="演示代表·陈明")
    assert duty_record(representative=chen, year=2026).totals["visits"] == 1
    studios = Studio.objects.filter(name="沙头角社区党代表工作室")
    rules = make_rules(date(2026, 1, 1), date(2026, 12, 31), date(2027, 1, 1))
    (cm4,) = [r for r in evaluate(studios, rules).results() if r.key == f"cm4:r{chen.pk}:2026"]
    assert cm4.reason == "2026年入户走访 1 户，不足 10 户。"


def test_a_liaison_still_reads_the_visits_the_representative_records(
    world, liaison, representative
):
    client_for(representative).post(reverse("duties:visit_create"), visit_data(world))
    visit = HouseholdVisit.objects.get()
    assert visit.recorded_by == representative
    client = client_for(liaison)
    assert client.get(reverse("duties:visit_detail", args=[visit.pk])).status_code == 200
    assert "演示·王先生家" in text_of(client.get(reverse("duties:visit_list")))


def test_visits_are_404_to_the_outsider(world, outsider, representative):
    client_for(representative).post(reverse("duties:visit_create"), visit_data(world))
    visit = HouseholdVisit.objects.get()
    client = client_for(outsider)
    assert client.get(reverse("duties:visit_detail", args=[visit.pk])).status_code == 404
    assert "演示·王先生家" not in text_of(client.get(reverse("duties:visit_list")))


def test_the_list_filters_by_representative_and_year(world, district_official):
    chen = Representative.objects.get(name="演示代表·陈明")
    lin = Representative.objects.get(name="演示代表·林秀英")
    for rep, day in [(chen, date(2025, 5, 1)), (chen, date(2026, 2, 1)), (lin, date(2026, 2, 2))]:
        household_visit_record(
            actor=district_official,
            representative=rep,
            community=world["440308003006"],
            visited_on=day,
            household=f"演示·{rep.name}走访{day}",
            address=ADDRESS,
        )
    client = client_for(district_official)
    html = text_of(
        client.get(reverse("duties:visit_list"), {"representative": chen.pk, "year": 2026})
    )
    assert "2026-02-01" in html and "2025-05-01" not in html and "2026-02-02" not in html


def add_visits(world, actor, n):
    """`n` visits of 演示代表·陈明 in 沙头角社区 from 1 January 2026, recorded by `actor`."""
    chen = Representative.objects.get(name="演示代表·陈明")
    for i in range(n):
        household_visit_record(
            actor=actor,
            representative=chen,
            community=world["440308003006"],
            visited_on=date(2026, 1, 1) + timedelta(days=i),
            household=f"演示·住户{i}",
            address=ADDRESS,
        )


def test_the_visit_list_runs_a_constant_number_of_queries(world, district_official):
    client = client_for(district_official)

    def add(n):
        add_visits(world, district_official, n)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("duties:visit_list")).status_code == 200
        return len(ctx.captured_queries)

    add(2)
    count()  # the account and its unread count are read once, then kept (cache)
    few = count()
    add(20)
    assert count() == few


def test_the_visit_list_decrypts_no_representative_s_phone(world, district_official, monkeypatch):
    """The list, its filter of representatives and the API's list name the
    representative; their phone, encrypted, is not read. Each address is decrypted, to
    be masked (no masked column keeps it)."""
    add_visits(world, district_official, 3)
    phones = set(Representative.objects.values_list("phone", flat=True)) - {""}
    client = client_for(district_official)
    api = api_for("yantian")
    opened = opened_values(monkeypatch)
    page = text_of(client.get(reverse("duties:visit_list")))
    assert "演示·住户2" in page and "演示代表·陈明" in page
    assert len(api.get("/household-visits").json()["items"]) >= 3
    assert phones and phones.isdisjoint(opened)
    assert ADDRESS in opened


def test_addresses_are_masked_after_six_characters():
    assert mask_address("沙头角演示小区 3 栋 501") == "沙头角演示小****"
    assert mask_address("短地址") == "短地****"


def test_the_form_sent_twice_records_one_visit(world, representative):
    client = client_for(representative)
    data = visit_data(world)
    assert client.post(reverse("duties:visit_create"), data).status_code == 302
    visit = HouseholdVisit.objects.get()
    again = client.post(reverse("duties:visit_create"), data, follow=True)
    assert again.redirect_chain[0][0] == reverse("duties:visit_detail", args=[visit.pk])
    assert "这次入户走访已经登记过了" in text_of(again)
    assert HouseholdVisit.objects.count() == 1


@pytest.mark.parametrize("key", [None, "x"])
def test_a_visit_posted_without_a_good_key_is_an_expired_page(world, representative, key):
    data = {k: v for k, v in visit_data(world, submission_key=key).items() if v is not None}
    response = client_for(representative).post(reverse("duties:visit_create"), data)
    assert response.status_code == 400
    page = text_of(response)
    assert "页面已过期，请核对后重新提交" in page and "演示·王先生家" in page
    assert not HouseholdVisit.objects.exists()


def test_a_visit_key_another_account_used_is_refused(world, representative, liaison):
    data = visit_data(world)
    assert client_for(representative).post(reverse("duties:visit_create"), data).status_code == 302
    response = client_for(liaison).post(reverse("duties:visit_create"), data)
    assert response.status_code == 400
    assert "页面已过期，请核对后重新提交" in text_of(response)
    assert HouseholdVisit.objects.count() == 1
