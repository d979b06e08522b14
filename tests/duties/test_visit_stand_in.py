"""A community with no studio: its party secretary stands in as liaison (CM 7) and, like
a studio's liaison, records, corrects and withdraws the household visits of the
representatives linked to the community, in the community; nothing beyond it."""

from __future__ import annotations

import re
from datetime import date
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minyi.duties.models import HouseholdVisit
from minyi.duties.visits import household_visit_record
from minyi.people.models import Liaison, Representative, Role, User
from tests.core.helpers import client_for, text_of

ADDRESS = "田心演示花园 1 栋 101"
SHATOUJIAO, TIANXIN = "440308003006", "440308003009"


@pytest.fixture
def stand_in(world):
    """演示书记·吴刚, 田心社区's party secretary (demo data), given an account."""
    user = User.objects.create_user(username="wugang", role=Role.LIAISON, full_name="演示书记·吴刚")
    Liaison.objects.filter(name="演示书记·吴刚").update(user=user)
    return user


def lin() -> Representative:
    return Representative.objects.get(name="演示代表·林秀英")  # linked to 沙头角 and 田心


def data(world, **overrides):
    values = {
        "representative": lin().pk,
        "community": world[TIANXIN].pk,
        "visited_on": "2026-03-04",
        "household": "演示·李女士家",
        "address": ADDRESS,
        "notes": "",
        "submission_key": str(uuid4()),  # a blank form's one-time key (minyi.core.once)
    }
    values.update(overrides)
    return values


def test_the_stand_in_records_a_visit_of_a_representative_linked_to_the_community(world, stand_in):
    client = client_for(stand_in)
    form = text_of(client.get(reverse("duties:visit_create")))
    # Only the representatives linked to 田心 and only 田心 itself are offered.
    assert "演示代表·林秀英" in form and "演示代表·陈明" not in form
    assert "田心社区" in form and "沙头角社区" not in form
    response = client.post(reverse("duties:visit_create"), data(world))
    assert response.status_code == 302
    visit = HouseholdVisit.objects.get()
    assert visit.recorded_by == stand_in and visit.community.code == TIANXIN
    page = text_of(client.get(response["Location"]))
    assert ADDRESS not in page and "查看完整住址" in page
    assert "演示·李女士家" in text_of(client.get(reverse("duties:visit_list")))


def test_the_stand_in_is_refused_beyond_the_community_in_chinese(world, stand_in):
    client = client_for(stand_in)
    chen = Representative.objects.get(name="演示代表·陈明")  # linked to 沙头角 only
    response = client.post(reverse("duties:visit_create"), data(world, representative=chen.pk))
    assert response.status_code == 400
    assert "只能为联系本社区的党代表登记入户走访" in text_of(response)
    response = client.post(
        reverse("duties:visit_create"), data(world, community=world[SHATOUJIAO].pk)
    )
    assert response.status_code == 400
    assert "只能登记在本社区的入户走访" in text_of(response)
    assert not HouseholdVisit.objects.exists()


def test_the_stand_in_corrects_and_withdraws_visits_in_the_community_only(
    world, stand_in, district_official
):
    def visit(community, household, address, day):
        return household_visit_record(
            actor=district_official,
            representative=lin(),
            community=world[community],
            visited_on=day,
            household=household,
            address=address,
        )

    here = visit(TIANXIN, "演示·李女士家", ADDRESS, date(2026, 3, 4))
    there = visit(SHATOUJIAO, "演示·沙头角住户", "沙头角演示小区", date(2026, 3, 5))
    client = client_for(stand_in)
    edit = reverse("duties:visit_edit", args=[here.pk])
    assert client.get(edit).status_code == 200
    response = client.post(
        edit,
        {**data(world), "household": "演示·李女士家（更正）", "address": "", "version": 1},
    )
    assert response.status_code == 302
    here.refresh_from_db()
    assert here.household == "演示·李女士家（更正）" and here.address == ADDRESS
    withdraw = reverse("duties:visit_withdraw", args=[here.pk])
    assert client.post(withdraw, {"reason": "重复登记", "version": 2}).status_code == 302
    # The same representative's visit in 沙头角 is not the stand-in's: not even to read.
    for name in ("visit_detail", "visit_edit"):
        assert client.get(reverse(f"duties:{name}", args=[there.pk])).status_code == 404
    listing = text_of(client.get(reverse("duties:visit_list")))
    assert "演示·沙头角住户" not in listing


def test_a_studio_s_liaison_still_records_nothing_in_the_stand_in_s_community(world, liaison):
    response = client_for(liaison).post(reverse("duties:visit_create"), data(world))
    assert response.status_code == 400
    assert not HouseholdVisit.objects.exists()


def test_the_stand_in_s_list_runs_a_constant_number_of_queries(world, stand_in):
    client = client_for(stand_in)

    def add(n):
        for i in range(n):
            client.post(reverse("duties:visit_create"), data(world, household=f"演示·住户{i}"))

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("duties:visit_list"))
        assert response.status_code == 200
        return len(ctx.captured_queries), text_of(response).count("/edit/")

    add(2)
    count()  # the account and its unread count are read once, then kept (cache)
    few, links = count()
    add(20)
    many, more_links = count()
    assert many == few and (links, more_links) == (2, 22)


def offered(response) -> set[str]:
    """The names the list's representative filter offers."""
    select = re.search(r'<select name="representative".*?</select>', text_of(response), re.S)
    assert select, "the list has no representative filter"
    return set(re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', select.group(0)))


def test_the_stand_in_filters_the_list_by_the_representatives_linked_to_the_community(
    world, stand_in, district_official
):
    linked = set(
        Representative.objects.filter(linked_communities=world[TIANXIN]).values_list(
            "name", flat=True
        )
    )
    assert "演示代表·林秀英" in linked
    client = client_for(stand_in)
    assert offered(client.get(reverse("duties:visit_list"))) == linked
    other = Representative.objects.filter(linked_communities=world[TIANXIN]).exclude(pk=lin().pk)
    client.post(reverse("duties:visit_create"), data(world, household="演示·林代表走访"))
    for rep in other:
        household_visit_record(
            actor=district_official,
            representative=rep,
            community=world[TIANXIN],
            visited_on=date(2026, 3, 6),
            household=f"演示·{rep.name}走访",
            address=ADDRESS,
        )
    page = text_of(client.get(reverse("duties:visit_list"), {"representative": lin().pk}))
    assert "演示·林代表走访" in page
    assert not any(f"演示·{rep.name}走访" in page for rep in other)


def test_another_community_s_representative_is_neither_offered_nor_accepted(world, stand_in):
    chen = Representative.objects.get(name="演示代表·陈明")  # linked to 沙头角 only
    client = client_for(stand_in)
    client.post(reverse("duties:visit_create"), data(world))
    response = client.get(reverse("duties:visit_list"), {"representative": chen.pk})
    assert response.status_code == 200
    assert "演示代表·陈明" not in offered(response)
    page = text_of(response)
    assert "请在列出的党代表中选择" in page and "筛选未生效" in page
    # Refused, not applied: the stand-in's visits are listed as without the filter.
    assert "演示·李女士家" in page


def test_the_stand_in_s_filtered_list_runs_a_fixed_number_of_queries(
    world, stand_in, django_assert_num_queries
):
    client = client_for(stand_in)
    url = reverse("duties:visit_list")

    def add(n):
        for i in range(n):
            client.post(reverse("duties:visit_create"), data(world, household=f"演示·住户{i}"))

    add(2)
    client.get(url)  # the account and its unread count are read once, then kept (cache)
    chosen = {"representative": lin().pk}
    for rows in (2, 22):
        with django_assert_num_queries(STAND_IN_LIST_QUERIES):
            response = client.get(url, chosen)
        assert response.status_code == 200 and text_of(response).count("/edit/") == rows
        add(20)


# The session, the chosen representative checked against the filter's choices, the page's
# count, its rows, the rows the stand-in may edit, and the filter's choices rendered. The
# account, the unread count and the scope are kept between requests (shared cache).
STAND_IN_LIST_QUERIES = 6
