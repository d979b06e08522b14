"""入户走访 (CM 4): a city representative visits at least ten households a year.

The household's address is personal data, like a reporter's: lists show it masked;
the full address is on the visit's own page, which only the recording department,
the representative and their studio's liaisons can open (HouseholdVisit's scope).

Who records: the representative themself; the liaison of a studio, who keeps the
studio's duty records, for a representative assigned to that studio and in a
community of the studio's area; or an organisation department for a representative
it answers for. `recorded_by` says who entered it. The model's scope
(HouseholdVisit.objects.for_editor) follows the same lines.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from minyi.duties.models import HouseholdVisit
from minyi.org.models import Level, OrgUnit
from minyi.people.models import Representative
from minyi.people.scopes import Scope, scope_of
from minyi.studios.models import Studio, StudioAssignment

ADDRESS_SHOWN = 6

REPRESENTATIVE_REFUSED = "只能为本单位负责的党代表（或您本人）登记入户走访。"
REPRESENTATIVE_REFUSED_LIAISON = "只能为进驻本工作室的党代表登记入户走访。"
COMMUNITY_REFUSED = "请选择本辖区内的社区，或该党代表的联系社区。"
COMMUNITY_REFUSED_LIAISON = "请选择本工作室所在区域内的社区。"


def mask_address(address: str) -> str:
    """The first six characters and ****: enough to tell visits apart in a list."""
    address = address or ""
    if len(address) <= ADDRESS_SHOWN:
        return address[:2] + "****"
    return address[:ADDRESS_SHOWN] + "****"


def _records_for_studio(scope: Scope) -> bool:
    """A liaison with a studio (not a representative, whose scope names studios too;
    not a stand-in party secretary, who has a community but no studio)."""
    return bool(scope.liaison_ids and scope.studio_ids and not scope.representative_ids)


def can_record(user: Any) -> bool:
    scope = scope_of(user)
    return bool(
        scope.everything or scope.unit or scope.representative_ids or _records_for_studio(scope)
    )


def refusals(user: Any) -> tuple[str, str]:
    """The Chinese refusals (representative, community) in the words of the user's role."""
    if _records_for_studio(scope_of(user)):
        return REPRESENTATIVE_REFUSED_LIAISON, COMMUNITY_REFUSED_LIAISON
    return REPRESENTATIVE_REFUSED, COMMUNITY_REFUSED


def recordable_representatives(user: Any) -> QuerySet:
    scope = scope_of(user)
    if scope.everything or scope.unit is not None:
        return Representative.objects.for_editor(user).active()
    if scope.representative_ids:
        return Representative.objects.filter(pk__in=scope.representative_ids, active=True)
    if _records_for_studio(scope):
        # A sub-query, not a join: a representative at two of the studios is one choice.
        assigned = StudioAssignment.objects.filter(
            studio_id__in=scope.studio_ids, active=True
        ).values("representative_id")
        return Representative.objects.filter(pk__in=assigned, active=True)
    return Representative.objects.none()


def recordable_communities(user: Any, representative: Representative | None = None) -> QuerySet:
    """A department: the communities of its area. A representative: their studios'
    communities and their linked communities. A liaison: the communities of their
    studio's area (the studio's own community, or those beneath its street)."""
    scope = scope_of(user)
    qs = OrgUnit.objects.active().filter(level=Level.COMMUNITY)
    if scope.everything:
        return qs
    if scope.unit is not None:
        # A department records only where it can read the visit back.
        return qs.filter(scope.unit.subtree_q(""))
    if _records_for_studio(scope):
        area = Q(pk__in=[])
        for unit in OrgUnit.objects.filter(
            pk__in=Studio.objects.filter(pk__in=scope.studio_ids).values("unit_id")
        ):
            area |= unit.subtree_q("")
        return qs.filter(area)
    q = Q(pk__in=[])
    if scope.unit_ids:
        q |= Q(pk__in=scope.unit_ids)
    if representative is not None:
        q |= Q(pk__in=representative.linked_communities.values("pk"))
    return qs.filter(q)


def household_visit_record(
    *,
    actor: Any,
    representative: Representative,
    community: OrgUnit,
    visited_on: date,
    household: str,
    address: str,
    notes: str = "",
) -> HouseholdVisit:
    errors: dict[str, list[str]] = {}
    household, address = (household or "").strip(), (address or "").strip()
    refused_representative, refused_community = refusals(actor)
    if not recordable_representatives(actor).filter(pk=representative.pk).exists():
        errors["representative"] = [refused_representative]
    elif not recordable_communities(actor, representative).filter(pk=community.pk).exists():
        errors["community"] = [refused_community]
    if visited_on is None:
        errors["visited_on"] = ["请填写走访日期。"]
    elif visited_on > timezone.localdate():
        errors["visited_on"] = ["走访日期不能晚于今天：入户走访在走访之后登记。"]
    if not household:
        errors["household"] = ["请填写住户，如：王先生家。"]
    if not address:
        errors["address"] = ["请填写住址。"]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        return HouseholdVisit.objects.create(
            representative=representative,
            community=community,
            visited_on=visited_on,
            household=household,
            address=address,
            notes=(notes or "").strip(),
            recorded_by=actor,
        )
