"""入户走访 (CM 4): a city representative visits at least ten households a year.

The household's address is personal data, like a reporter's: lists show it masked;
the full address is on the visit's own page, which only the recording department,
the representative, their studio's liaisons and the community's stand-in can open
(HouseholdVisit's scope).

Who records: the representative themself; the liaison of a studio, who keeps the
studio's duty records, for a representative assigned to that studio and in a
community of the studio's area; where a community has no studio, its party secretary
standing in as liaison (CM 7), for a representative linked to the community and in
it; or an organisation department for a representative it answers for. `recorded_by`
says who entered it. The model's scope (HouseholdVisit.objects.for_editor) follows the
same lines; whoever could record a visit now may correct or withdraw it.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from minyi.core.once import made_with
from minyi.duties import tallies
from minyi.duties.models import HouseholdVisit
from minyi.evaluation.models import EvaluationRound
from minyi.evaluation.states import RoundState
from minyi.org.models import Level, OrgUnit
from minyi.people.models import Representative
from minyi.people.scopes import Scope, scope_of
from minyi.studios.models import Studio, StudioAssignment

ADDRESS_SHOWN = 6

REPRESENTATIVE_REFUSED = "只能为本单位负责的党代表（或您本人）登记入户走访。"
REPRESENTATIVE_REFUSED_LIAISON = "只能为进驻本工作室的党代表登记入户走访。"
COMMUNITY_REFUSED = "请选择本辖区内的社区，或该党代表的联系社区。"
COMMUNITY_REFUSED_LIAISON = "请选择本工作室所在区域内的社区。"
REPRESENTATIVE_REFUSED_STAND_IN = "只能为联系本社区的党代表登记入户走访。"
COMMUNITY_REFUSED_STAND_IN = "只能登记在本社区的入户走访。"


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
        scope.everything
        or scope.unit
        or scope.representative_ids
        or _records_for_studio(scope)
        or scope.stands_in
    )


def refusals(user: Any) -> tuple[str, str]:
    """The Chinese refusals (representative, community) in the words of the user's role."""
    scope = scope_of(user)
    if _records_for_studio(scope):
        return REPRESENTATIVE_REFUSED_LIAISON, COMMUNITY_REFUSED_LIAISON
    if scope.stands_in:
        return REPRESENTATIVE_REFUSED_STAND_IN, COMMUNITY_REFUSED_STAND_IN
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
    if scope.stands_in:
        return Representative.objects.filter(pk__in=_linked_to(scope.unit_ids), active=True)
    return Representative.objects.none()


def _linked_to(community_ids: tuple[int, ...]) -> QuerySet:
    """The ids of the representatives linked to these communities (CM 2), as a sub-query."""
    return Representative.linked_communities.through.objects.filter(
        orgunit_id__in=community_ids
    ).values("representative_id")


def filter_representatives(user: Any) -> QuerySet:
    """The representatives the visit list's filter offers: those the user reads, and for
    a community's stand-in (who reads no representative's record) the representatives
    linked to the community, whose visits there are the ones the stand-in reads (CM 7),
    left office or not, as the list keeps their visits."""
    scope = scope_of(user)
    if scope.stands_in:
        return Representative.objects.filter(pk__in=_linked_to(scope.unit_ids))
    return Representative.objects.for_user(user)


def recordable_communities(user: Any, representative: Representative | None = None) -> QuerySet:
    """A department: the communities of its area. A representative: their studios'
    communities and their linked communities. A liaison: the communities of their
    studio's area (the studio's own community, or those beneath its street). A
    community's stand-in liaison: that community."""
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
    if scope.stands_in:
        return qs.filter(pk__in=scope.unit_ids)
    q = Q(pk__in=[])
    if scope.unit_ids:
        q |= Q(pk__in=scope.unit_ids)
    if representative is not None:
        q |= Q(pk__in=representative.linked_communities.values("pk"))
    return qs.filter(q)


class NotAllowed(Exception):
    """The visit cannot be changed in its state (withdrawn, or its year closed): 400."""


class Changed(Exception):
    """Someone else saved the visit since this user loaded it: 409, nothing saved."""

    message = "这条入户走访刚刚已被他人修改或撤回，您的修改未保存。请查看最新内容后再操作。"


WITHDRAWN = "这条入户走访已撤回，不能再修改。"


def closed_year_refusal(year: int) -> str:
    """The refusal for a year whose year-end evaluation has been finalised, or "".

    A year is closed once its evaluation round has left 评估中 (CM 12): the outcomes were
    judged on these visits, so they stay as judged; reopening the round reopens them
    (docs/decisions.md)."""
    closed = EvaluationRound.objects.filter(year=year).exclude(state=RoundState.ASSESSING).exists()
    if closed:
        return f"{year}年度评估已定稿，该年度的入户走访不能再登记、修改或撤回。"
    return ""


def editable_visits(user: Any) -> QuerySet:
    """The visits `user` may correct or withdraw: those they could record now (the
    representative and the community still among their choices). Everything else is
    a 404, like a visit that does not exist. A withdrawn one is among them, refused
    with a reason (`WITHDRAWN`)."""
    scope = scope_of(user)
    qs = HouseholdVisit.objects.for_editor(user)
    if not can_record(user):
        return qs.none()
    qs = qs.filter(representative__in=recordable_representatives(user).values("pk"))
    if scope.everything or scope.unit is not None:
        # The department's area (for_editor), also a community retired since the visit:
        # it is offered to no one for recording, so without the department nobody could
        # correct or withdraw what was recorded there (docs/decisions.md).
        return qs
    communities = recordable_communities(user).values("pk")
    if _records_for_studio(scope) or scope.stands_in:
        return qs.filter(community__in=communities)
    # A representative: their studios' communities, or the visit's own representative's
    # linked communities (recordable_communities with that representative).
    linked = Representative.linked_communities.through.objects.filter(
        representative_id=OuterRef("representative_id"), orgunit_id=OuterRef("community_id")
    )
    return qs.filter(Q(community__in=communities) | Exists(linked))


def _check(actor: Any, visit: HouseholdVisit, *, kept_community_id: int | None = None) -> None:
    """The rules of recording, for a new visit and for a corrected one. A correction may
    keep the community on record (`kept_community_id`) even where it is no longer offered
    (retired since): whoever may correct the visit was checked by `editable_visits`."""
    errors: dict[str, list[str]] = {}
    refused_representative, refused_community = refusals(actor)
    representative = visit.representative
    if not recordable_representatives(actor).filter(pk=representative.pk).exists():
        errors["representative"] = [refused_representative]
    elif (
        visit.community.pk != kept_community_id
        and not recordable_communities(actor, representative).filter(pk=visit.community.pk).exists()
    ):
        errors["community"] = [refused_community]
    if visit.visited_on is None:
        errors["visited_on"] = ["请填写走访日期。"]
    elif visit.visited_on > timezone.localdate():
        errors["visited_on"] = ["走访日期不能晚于今天：入户走访在走访之后登记。"]
    elif refusal := closed_year_refusal(visit.visited_on.year):
        errors["visited_on"] = [refusal]
    if not visit.household:
        errors["household"] = ["请填写住户，如：王先生家。"]
    if not visit.address:
        errors["address"] = ["请填写住址。"]
    if errors:
        raise ValidationError(errors)


def household_visit_record(
    *,
    actor: Any,
    representative: Representative,
    community: OrgUnit,
    visited_on: date,
    household: str,
    address: str,
    notes: str = "",
    submission_key: UUID | None = None,
) -> HouseholdVisit:
    """Record a visit. A second one with the page's `submission_key` (the form sent
    twice) is refused by the unique constraint, an IntegrityError: `recorded_with`."""
    visit = HouseholdVisit(
        submission_key=submission_key,
        representative=representative,
        community=community,
        visited_on=visited_on,
        household=(household or "").strip(),
        address=(address or "").strip(),
        notes=(notes or "").strip(),
        recorded_by=actor,
    )
    _check(actor, visit)
    with transaction.atomic():
        visit.save(force_insert=True)
    return visit


def recorded_with(submission_key: UUID | None) -> HouseholdVisit | None:
    """The visit a page's one-time key recorded, if any. Not scoped: the caller shows it
    only to whoever recorded it."""
    return made_with(HouseholdVisit, submission_key, "pk", "recorded_by_id")


def _locked(actor: Any, visit: HouseholdVisit, version: int) -> HouseholdVisit:
    """The visit again, locked, if `actor` may still change it; inside a transaction."""
    if not HouseholdVisit.objects.for_editor(actor).filter(pk=visit.pk).exists():
        raise PermissionError
    locked = HouseholdVisit.objects.select_for_update().get(pk=visit.pk)
    if locked.withdrawn_at is not None:
        raise NotAllowed(WITHDRAWN)
    if locked.version != version:
        raise Changed(Changed.message)
    if not editable_visits(actor).filter(pk=visit.pk).exists():
        raise PermissionError
    if refusal := closed_year_refusal(locked.visited_on.year):
        raise NotAllowed(refusal)
    return locked


@transaction.atomic
def household_visit_update(
    *,
    actor: Any,
    visit: HouseholdVisit,
    version: int,
    representative: Representative,
    community: OrgUnit,
    visited_on: date,
    household: str,
    notes: str = "",
    address: str = "",
) -> HouseholdVisit:
    """Correct a visit, all or nothing. A blank address keeps the one on record (the
    edit page does not show it: showing it would be a full view of personal data)."""
    locked = _locked(actor, visit, version)
    before = locked.representative_id
    kept_community_id = locked.community_id
    locked.representative = representative
    locked.community = community
    locked.visited_on = visited_on
    locked.household = (household or "").strip()
    locked.address = (address or "").strip() or locked.address
    locked.notes = (notes or "").strip()
    _check(actor, locked, kept_community_id=kept_community_id)
    locked.version += 1
    locked.save()
    if before != representative.pk:
        # The save's signal stamps the new representative's tallies; the visit left
        # the old one's count too.
        tallies.mark_representatives([before])
    return locked


@transaction.atomic
def household_visit_withdraw(
    *, actor: Any, visit: HouseholdVisit, version: int, reason: str
) -> HouseholdVisit:
    """Withdraw a visit entered by mistake: it stays, with who withdrew it, when and
    why, and no longer counts (CM 4, the duty record, reports, compliance)."""
    locked = _locked(actor, visit, version)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "撤回入户走访须写明理由。"})
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_by = actor
    locked.withdrawn_reason = reason
    locked.version += 1
    locked.save()
    return locked
