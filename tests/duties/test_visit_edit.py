"""Correcting and withdrawing a household visit (CM 4): whoever could record the visit
now may correct it or withdraw it, in an open year; everyone else gets a 404. A stale
page changes nothing (409); a withdrawn visit stays on record and no longer counts in
the duty record, the list, the reports or the compliance tallies."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minyi.audit.models import AuditEvent
from minyi.duties import tallies
from minyi.duties.compliance import count, make_rules
from minyi.duties.models import HouseholdVisit
from minyi.duties.record import duty_record
from minyi.duties.reports import report_draft_text
from minyi.duties.visits import household_visit_record
from minyi.evaluation.models import EvaluationRound
from minyi.evaluation.states import RoundState
from minyi.people.models import Representative
from minyi.studios.models import Studio
from tests.core.helpers import client_for, text_of

ADDRESS = "沙头角演示小区 3 栋 501"
SHATOUJIAO, TIANXIN, DAMEISHA = "440308003006", "440308003009", "440308001006"


def chen() -> Representative:
    return Representative.objects.get(name="演示代表·陈明")


def record(world, actor, *, rep=None, community=SHATOUJIAO, day=date(2026, 3, 4), n=""):
    return household_visit_record(
        actor=actor,
        representative=rep or chen(),
        community=world[community],
        visited_on=day,
        household=f"演示·王先生家{n}",
        address=ADDRESS,
        notes="了解加装电梯的意见",
    )


def edit_data(visit, **overrides):
    data = {
        "representative": visit.representative_id,
        "community": visit.community_id,
        "visited_on": visit.visited_on.isoformat(),
        "household": visit.household,
        "address": "",
        "notes": visit.notes,
        "version": visit.version,
    }
    data.update(overrides)
    return data


def edit_url(visit):
    return reverse("duties:visit_edit", args=[visit.pk])


def withdraw_url(visit):
    return reverse("duties:visit_withdraw", args=[visit.pk])


# --- who may ----------------------------------------------------------------------------


def test_the_representative_corrects_a_typo_and_the_address_stays_unless_retyped(
    world, representative
):
    visit = record(world, representative)
    client = client_for(representative)
    page = client.get(edit_url(visit))
    assert page.status_code == 200
    html = text_of(page)
    # The edit page is no full view of the address: it shows it masked only.
    assert ADDRESS not in html and "沙头角演示小****" in html and "留空则不修改" in html
    response = client.post(edit_url(visit), edit_data(visit, household="演示·汪先生家"))
    assert response.status_code == 302
    assert response["Location"] == reverse("duties:visit_detail", args=[visit.pk])
    visit.refresh_from_db()
    assert (visit.household, visit.address, visit.version) == ("演示·汪先生家", ADDRESS, 2)
    assert not visit.address_views.exists()
    client.post(edit_url(visit), edit_data(visit, address="沙头角演示小区 3 栋 502"))
    visit.refresh_from_db()
    assert visit.address == "沙头角演示小区 3 栋 502" and visit.version == 3


def test_a_correction_is_audited_by_field_name_never_by_value(world, representative):
    visit = record(world, representative)
    client_for(representative).post(
        edit_url(visit), edit_data(visit, household="演示·汪先生家", address="新演示地址 1 号")
    )
    row = AuditEvent.objects.get(
        action="update", object_type="duties.householdvisit", object_id=str(visit.pk)
    )
    assert row.actor_name == "rep"
    assert {"household", "address", "version"} <= set(row.fields)
    assert "汪先生" not in str(row.fields) + row.detail and "新演示" not in row.detail


def test_the_liaison_corrects_the_visits_of_their_studio_s_representative(
    world, liaison, representative
):
    visit = record(world, representative)
    client = client_for(liaison)
    assert client.get(edit_url(visit)).status_code == 200
    response = client.post(edit_url(visit), edit_data(visit, notes="补充：已答复"))
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.notes == "补充：已答复" and visit.recorded_by.username == "rep"


def test_a_visit_outside_the_liaison_s_studio_area_is_404_to_them(
    world, liaison, district_official
):
    # 陈明 is the studio's representative, but 田心社区 is outside the studio's area: the
    # liaison could not record this visit, so they cannot change it either.
    elsewhere = record(world, district_official, community=TIANXIN)
    huang = Representative.objects.get(name="演示代表·黄海")
    other_studio = record(world, district_official, rep=huang, community=DAMEISHA)
    client = client_for(liaison)
    for visit in (elsewhere, other_studio):
        assert client.get(edit_url(visit)).status_code == 404
        assert client.post(edit_url(visit), edit_data(visit, notes="改")).status_code == 404
        assert client.post(withdraw_url(visit), {"reason": "错", "version": 1}).status_code == 404
        visit.refresh_from_db()
        assert visit.version == 1 and visit.withdrawn_at is None
    # The first they may still read (their representative's visit), without the buttons.
    page = text_of(client.get(reverse("duties:visit_detail", args=[elsewhere.pk])))
    assert "撤回走访" not in page and edit_url(elsewhere) not in page


def test_the_representative_cannot_change_a_visit_where_they_could_not_record_it(
    world, representative, district_official
):
    visit = record(world, district_official, community=TIANXIN)  # not 陈明's community
    client = client_for(representative)
    assert client.get(edit_url(visit)).status_code == 404
    assert client.post(withdraw_url(visit), {"reason": "错", "version": 1}).status_code == 404


@pytest.mark.parametrize("persona", ["outsider", "handling_unit_staff"])
def test_others_get_404(world, representative, persona, request):
    visit = record(world, representative)
    client = client_for(request.getfixturevalue(persona))
    assert client.get(edit_url(visit)).status_code == 404
    assert client.post(edit_url(visit), edit_data(visit, household="改")).status_code == 404
    assert client.post(withdraw_url(visit), {"reason": "错", "version": 1}).status_code == 404
    visit.refresh_from_db()
    assert visit.household == "演示·王先生家" and visit.withdrawn_at is None


def test_the_liaison_cannot_move_a_visit_out_of_the_studio_s_area(world, liaison, representative):
    visit = record(world, representative)
    response = client_for(liaison).post(
        edit_url(visit), edit_data(visit, community=world[TIANXIN].pk)
    )
    assert response.status_code == 400
    assert "请选择本工作室所在区域内的社区" in text_of(response)
    visit.refresh_from_db()
    assert visit.community.code == SHATOUJIAO and visit.version == 1


# --- bad input, stale pages, closed years -----------------------------------------------


def test_a_future_date_is_refused_in_chinese_and_nothing_changes(world, representative):
    visit = record(world, representative)
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client_for(representative).post(
        edit_url(visit), edit_data(visit, visited_on=tomorrow.isoformat(), household="演示·改")
    )
    assert response.status_code == 400
    html = text_of(response)
    assert "走访日期不能晚于今天" in html and "演示·改" in html  # what was typed stays
    visit.refresh_from_db()
    assert visit.household == "演示·王先生家" and visit.version == 1


def test_a_stale_page_is_refused_with_409_and_the_later_change_stands(
    world, representative, liaison
):
    visit = record(world, representative)
    client_for(liaison).post(edit_url(visit), edit_data(visit, notes="联络员的补充"))
    response = client_for(representative).post(
        edit_url(visit),
        edit_data(visit, household="演示·汪先生家"),  # still version 1
    )
    assert response.status_code == 409
    html = text_of(response)
    assert "刚刚已被他人修改或撤回，您的修改未保存" in html
    # What the representative typed is kept, now against the latest version.
    assert "演示·汪先生家" in html and 'name="version" value="2"' in html
    visit.refresh_from_db()
    assert (visit.household, visit.notes, visit.version) == ("演示·王先生家", "联络员的补充", 2)
    stale_withdraw = client_for(representative).post(
        withdraw_url(visit), {"reason": "重复登记", "version": 1}
    )
    assert stale_withdraw.status_code == 409
    visit.refresh_from_db()
    assert visit.withdrawn_at is None


def test_a_page_without_its_version_is_refused_in_chinese(world, representative):
    visit = record(world, representative)
    data = edit_data(visit)
    del data["version"]
    response = client_for(representative).post(edit_url(visit), data)
    assert response.status_code == 400
    assert "页面缺少版本信息，请刷新页面后重新提交" in text_of(response)


def test_a_year_whose_evaluation_is_finalised_is_closed(world, representative, city_official):
    visit = record(world, representative)
    EvaluationRound.objects.create(year=2026, state=RoundState.DRAFTING, opened_by=city_official)
    client = client_for(representative)
    refusal = "2026年度评估已定稿，该年度的入户走访不能再登记、修改或撤回。"
    page = client.get(edit_url(visit))
    assert page.status_code == 400 and refusal in text_of(page)
    response = client.post(edit_url(visit), edit_data(visit, household="演示·改"))
    assert response.status_code == 400 and refusal in text_of(response)
    response = client.post(withdraw_url(visit), {"reason": "错", "version": 1})
    assert response.status_code == 400 and refusal in text_of(response)
    detail = text_of(client.get(reverse("duties:visit_detail", args=[visit.pk])))
    assert refusal in detail and "撤回走访" not in detail
    # Nor may a visit be recorded in, or moved into, the closed year.
    response = client.post(
        reverse("duties:visit_create"),
        {**edit_data(visit), "address": ADDRESS, "household": "演示·新", "submission_key": uuid4()},
    )
    assert response.status_code == 400 and refusal in text_of(response)
    visit.refresh_from_db()
    assert visit.version == 1 and HouseholdVisit.objects.count() == 1


def test_a_round_still_assessing_leaves_the_year_open(world, representative, city_official):
    visit = record(world, representative)
    EvaluationRound.objects.create(year=2026, state=RoundState.ASSESSING, opened_by=city_official)
    response = client_for(representative).post(edit_url(visit), edit_data(visit, notes="补"))
    assert response.status_code == 302


# --- withdrawing --------------------------------------------------------------------------


def test_a_withdrawn_visit_stays_on_record_and_no_longer_counts(world, representative, liaison):
    visit = record(world, representative)
    record(world, representative, n="2")
    assert duty_record(representative=chen(), year=2026).totals["visits"] == 2
    client = client_for(liaison)
    blank = client.post(withdraw_url(visit), {"reason": " ", "version": 1})
    assert blank.status_code == 400 and "请填写撤回理由" in text_of(blank)
    response = client.post(withdraw_url(visit), {"reason": "重复登记", "version": 1})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.withdrawn_by == liaison and visit.withdrawn_reason == "重复登记"
    assert visit.version == 2
    assert duty_record(representative=chen(), year=2026).totals["visits"] == 1
    page = text_of(client.get(reverse("duties:visit_detail", args=[visit.pk])))
    assert "（已撤回）" in page and "重复登记" in page and "撤回走访" not in page
    # Not in the list, unless asked for; never offered for correction again.
    listing = text_of(client.get(reverse("duties:visit_list")))
    assert "演示·王先生家2" in listing and "演示·王先生家<" not in listing
    assert "共 1 条" in listing
    listing = text_of(client.get(reverse("duties:visit_list"), {"withdrawn": "on"}))
    assert "（已撤回）" in listing and edit_url(visit) not in listing
    again = client.get(edit_url(visit))
    assert again.status_code == 400 and "这条入户走访已撤回，不能再修改" in text_of(again)
    twice = client.post(withdraw_url(visit), {"reason": "再撤", "version": 2})
    assert twice.status_code == 400
    assert AuditEvent.objects.filter(
        action="update", object_type="duties.householdvisit", object_id=str(visit.pk)
    ).exists()


def test_the_bi_monthly_report_s_draft_leaves_a_withdrawn_visit_out(world, representative):
    visit = record(world, representative)
    record(world, representative, n="2")
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    draft = report_draft_text(studio=studio, year=2026, period=2)
    assert "本期入户走访共 2 户" in draft
    client_for(representative).post(withdraw_url(visit), {"reason": "重复登记", "version": 1})
    draft = report_draft_text(studio=studio, year=2026, period=2)
    assert "本期入户走访共 1 户" in draft and "演示代表·陈明：1 户" in draft


def test_the_list_and_the_duty_record_lead_to_the_edit_page(world, representative, outsider):
    visit = record(world, representative)
    client = client_for(representative)
    assert edit_url(visit) in text_of(client.get(reverse("duties:visit_list")))
    detail = reverse("duties:visit_detail", args=[visit.pk])
    # The visit's own year: the record shows this year's by default, and 2026's visit is
    # not this year's once the run is in 2027.
    record_url = reverse("duties:duty_record", args=[chen().pk])
    record_page = text_of(client.get(record_url, {"year": visit.visited_on.year}))
    assert f'href="{detail}"' in record_page
    assert edit_url(visit) in text_of(client.get(detail))


# --- the compliance tallies ---------------------------------------------------------------


def _both(year_end):
    """The dashboard's tallies and the counts judged from the facts, for every studio."""
    studios = Studio.objects.active().select_related("unit")
    tallied = tallies.count(studios, year_end.year, year_end)
    judged = count(studios, make_rules(date(year_end.year, 1, 1), year_end, year_end))
    return (tallied.representatives, tallied.studios), (judged.representatives, judged.studios)


def test_the_tallies_follow_a_withdrawal_and_a_correction(world, district_official):
    # Last year, judged on its last day: ten visits are 达标, nine are not, whatever today
    # is. Worked out when the test runs, not at import: a run may cross New Year.
    year_end = date(timezone.localdate().year - 1, 12, 31)
    days = [date(year_end.year, 3, 1) + timedelta(days=i) for i in range(10)]
    visits = [record(world, district_official, day=d, n=str(i)) for i, d in enumerate(days)]
    tallied, judged = _both(year_end)
    assert tallied == judged  # the rows now exist and are fresh
    client = client_for(district_official)

    # Withdrawn: 陈明 falls from ten visits to nine, no longer 达标.
    gone = visits[0]
    assert client.post(withdraw_url(gone), {"reason": "重复登记", "version": 1}).status_code == 302
    tallied, after = _both(year_end)
    assert after != judged, "ten visits became nine: the counts should move"
    assert tallied == after

    record(world, district_official, day=date(year_end.year, 4, 1), n="补")
    tallied, judged = _both(year_end)
    assert tallied == judged

    # Moved to a representative of another studio (whose tallies are recomputed apart
    # from 陈明's): 陈明 falls to nine again, and both representatives' tallies must
    # follow, the one the visit left too.
    huang = Representative.objects.get(name="演示代表·黄海")
    moved = visits[1]
    assert (
        client.post(edit_url(moved), edit_data(moved, representative=huang.pk)).status_code == 302
    )
    tallied, after = _both(year_end)
    assert after != judged, "ten visits became nine: the counts should move"
    assert tallied == after

    # Moved into the year before: it leaves this year's count.
    dated = visits[2]
    earlier = date(year_end.year - 1, 12, 1).isoformat()
    assert client.post(edit_url(dated), edit_data(dated, visited_on=earlier)).status_code == 302
    tallied, judged = _both(year_end)
    assert tallied == judged


@pytest.mark.parametrize("query", [{}, {"withdrawn": "on"}])
def test_the_list_with_its_edit_links_runs_a_constant_number_of_queries(
    world, liaison, representative, query
):
    client = client_for(liaison)

    def add(n):
        for i in range(n):
            visit = record(world, representative, day=date(2026, 1, 1) + timedelta(days=i))
            if i % 2:
                client.post(withdraw_url(visit), {"reason": "重复登记", "version": 1})

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("duties:visit_list"), query)
        assert response.status_code == 200
        return len(ctx.captured_queries), text_of(response).count("/edit/")

    add(2)
    count()  # the account and its unread count are read once, then kept (cache)
    few, links = count()
    assert links == 1
    add(20)
    many, links = count()
    assert many == few and links == 11
