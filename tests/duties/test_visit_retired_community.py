"""Household visits recorded in a community retired (or merged away) since: the
organisation departments whose area holds the community still correct and withdraw
them, keeping the retired community on the visit; no retired community is offered or
accepted for a new visit, nor for moving a visit into it."""

from __future__ import annotations

import re
from datetime import date
from uuid import uuid4

import pytest
from django.urls import reverse

from minyi.duties.models import HouseholdVisit
from minyi.duties.visits import household_visit_record
from minyi.org.models import OrgUnit
from minyi.org.services import unit_merge, unit_retire
from minyi.people.models import Representative
from tests.core.helpers import client_for, text_of
from tests.duties.test_visit_edit import edit_data

ADDRESS = "田心演示花园 1 栋 101"
SHATOUJIAO, TIANXIN, QIAODONG = "440308003006", "440308003009", "440308003003"


def lin() -> Representative:
    return Representative.objects.get(name="演示代表·林秀英")  # linked to 沙头角 and 田心


def community_choices(response) -> list[str]:
    select = re.search(r'<select name="community".*?</select>', text_of(response), re.S)
    assert select
    return re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', select.group(0))


@pytest.fixture(params=["retired", "merged"])
def visit_in_a_retired_community(request, world, district_official) -> HouseholdVisit:
    """A visit in 田心社区 (no studio), which is then retired, or merged into 沙头角社区."""
    visit = household_visit_record(
        actor=district_official,
        representative=lin(),
        community=world[TIANXIN],
        visited_on=date(2026, 3, 4),
        household="演示·李女士家",
        address=ADDRESS,
    )
    if request.param == "retired":
        unit_retire(unit=world[TIANXIN])
    else:
        unit_merge(source=world[TIANXIN], target=world[SHATOUJIAO])
    # Another community retired too, which must not be offered anywhere.
    unit_retire(unit=world[QIAODONG])
    assert OrgUnit.objects.get(pk=world[TIANXIN].pk).is_retired
    return visit


@pytest.mark.parametrize("persona", ["district_official", "street_official"])
def test_a_department_over_the_community_corrects_and_withdraws_the_visit(
    request, world, visit_in_a_retired_community, persona
):
    visit = visit_in_a_retired_community
    client = client_for(request.getfixturevalue(persona))
    listing = text_of(client.get(reverse("duties:visit_list")))
    assert reverse("duties:visit_edit", args=[visit.pk]) in listing
    edit = reverse("duties:visit_edit", args=[visit.pk])
    page = client.get(edit)
    assert page.status_code == 200
    # The visit's own community is kept as a choice, marked; no other retired one.
    offered = community_choices(page)
    assert "田心社区（已撤销）" in offered
    assert not any("桥东" in name for name in offered)
    response = client.post(edit, edit_data(visit, household="演示·李女士家（更正）"))
    assert response.status_code == 302, text_of(response)
    visit.refresh_from_db()
    assert visit.household == "演示·李女士家（更正）" and visit.address == ADDRESS
    assert visit.community_id == world[TIANXIN].pk
    withdraw = reverse("duties:visit_withdraw", args=[visit.pk])
    response = client.post(withdraw, {"reason": "重复登记", "version": visit.version})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.withdrawn_reason == "重复登记"


def test_a_correction_may_move_the_visit_out_but_not_into_another_retired_community(
    world, visit_in_a_retired_community, district_official
):
    visit = visit_in_a_retired_community
    client = client_for(district_official)
    edit = reverse("duties:visit_edit", args=[visit.pk])
    response = client.post(edit, edit_data(visit, community=world[QIAODONG].pk))
    assert response.status_code == 400
    assert "请选择本辖区内的社区" in text_of(response)
    visit.refresh_from_db()
    assert visit.community_id == world[TIANXIN].pk and visit.version == 1
    response = client.post(edit, edit_data(visit, community=world[SHATOUJIAO].pk))
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.community_id == world[SHATOUJIAO].pk


def test_no_retired_community_is_offered_or_accepted_for_a_new_visit(
    world, visit_in_a_retired_community, district_official
):
    client = client_for(district_official)
    offered = community_choices(client.get(reverse("duties:visit_create")))
    assert "沙头角社区" in offered
    assert not any("田心" in name or "桥东" in name for name in offered)
    response = client.post(
        reverse("duties:visit_create"),
        {
            "representative": lin().pk,
            "community": world[TIANXIN].pk,
            "visited_on": "2026-03-05",
            "household": "演示·新住户",
            "address": ADDRESS,
            "submission_key": str(uuid4()),
        },
    )
    assert response.status_code == 400
    assert HouseholdVisit.objects.count() == 1


def test_outside_the_department_s_area_the_visit_stays_a_404(
    world, visit_in_a_retired_community, outsider
):
    visit = visit_in_a_retired_community
    client = client_for(outsider)
    assert client.get(reverse("duties:visit_edit", args=[visit.pk])).status_code == 404
    response = client.post(
        reverse("duties:visit_withdraw", args=[visit.pk]), {"reason": "x", "version": 1}
    )
    assert response.status_code == 404
    assert HouseholdVisit.objects.get().withdrawn_at is None
