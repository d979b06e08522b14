"""Who may take which step on a case, and who may see the reporter.

Scope (`Case.objects.for_user`) decides whether a case is visible at all; these rules
decide, for a visible case, which of the steps its state allows this user may take.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from minyi.cases.models import Case
from minyi.cases.states import Action, HolderLevel, allowed_actions
from minyi.org.models import OrgDepartment
from minyi.people.models import Role
from minyi.people.scopes import scope_of

STUDIO_SIDE = {
    Action.CONFIRM_REPRESENTATIVE,
    Action.CONFIRM_REPORTER,
    Action.SEND_TO_STREET,
    Action.CARRY_FORWARD,
    Action.NOTE,
}
DEPARTMENT_SIDE = {
    Action.REFER,
    Action.ESCALATE,
    Action.URGE,
    Action.CONSULT,
    Action.CARRY_FORWARD,
    Action.CONSENT_EXTENSION,
    Action.REFUSE_EXTENSION,
    Action.NOTE,
}
# The joint rating of an answer (CM 12): the street organisation department of the
# case's studio, with the representative and the reporter, whoever holds the case
# (`rates_case`).
RATING = {Action.EVALUATE, Action.REOPEN}
UNIT_SIDE = {Action.RETURN, Action.ANSWER, Action.REQUEST_EXTENSION, Action.PLAN, Action.NOTE}
REPRESENTATIVE_SIDE = STUDIO_SIDE | {
    Action.CONSENT_EXTENSION,
    Action.REFUSE_EXTENSION,
    Action.CONSULT,
}


def is_holder(user: Any, case: Case) -> bool:
    """The official whose department holds the case (the city's officials act for the
    city committee when the case has been escalated that far)."""
    if user.is_superuser:
        return True
    if not getattr(user, "is_official", False):
        return False
    department = case.holder_department  # None, without a query, when there is none
    if department is None:
        return False
    if case.holder_level == HolderLevel.CITY_COMMITTEE:
        return user.role == Role.CITY_OFFICIAL and user.unit_id == department.unit_id
    return user.unit_id == department.unit_id


def is_street_department(user: Any, case: Case) -> bool:
    """The official of the street organisation department of the case's studio: the
    studio's street, or the studio's unit when that unit is a street (the case's own
    `street` column holds either, minyi.cases.areas)."""
    return bool(
        getattr(user, "is_official", False)
        and case.street_id is not None
        and user.unit_id == case.street_id
    )


def rates_case(user: Any, case: Case) -> bool:
    """Who records the satisfaction rating (EVALUATE, REOPEN): the street organisation
    department of the case's studio, with the representative and the reporter (CM 12),
    whoever holds the case; a district or city department holding an escalated case
    does not. Only a studio with no street above it (at a district or a system
    committee) has its holding department rate (docs/decisions.md)."""
    if user.is_superuser:
        return True
    if case.street_id is not None:
        return is_street_department(user, case)
    return is_holder(user, case)


def rated_by_q(user: Any) -> Q | None:
    """The cases whose answers this official's department rates (rates_case, as a
    filter): those of its street's studios, and those it holds of a studio with no
    street. None for an account that rates nothing."""
    if not getattr(user, "is_official", False) or user.unit_id is None:
        return None
    # The departments as a subquery, not a join: the start page counts with this over
    # every open case in scope.
    departments = OrgDepartment.objects.filter(unit_id=user.unit_id).values("pk")
    return Q(street_id=user.unit_id) | Q(
        street_id__isnull=True, holder_department_id__in=departments
    )


def permitted_actions(user: Any, case: Case) -> set[str]:
    """The steps this user may take on this case now."""
    # Withdrawal is the reporter's own, taken online (minyi.online.services); no
    # account acts for them, not even the administrator.
    possible = allowed_actions(case.state) - {Action.WITHDRAW}
    if user.is_superuser:
        return possible
    scope = scope_of(user)
    allowed: set[str] = set()
    if case.studio_id in scope.studio_ids and user.role == Role.LIAISON:
        allowed |= STUDIO_SIDE
    if case.representative_id in scope.representative_ids:
        allowed |= REPRESENTATIVE_SIDE
    if is_holder(user, case):
        allowed |= DEPARTMENT_SIDE
    elif is_street_department(user, case):
        allowed |= {Action.CONSULT, Action.NOTE, Action.SEND_TO_STREET}
    if rates_case(user, case):
        allowed |= RATING
    if (
        user.role == Role.HANDLING_UNIT_STAFF
        and case.handling_unit_id is not None
        and user.handling_unit_id == case.handling_unit_id
    ):
        allowed |= UNIT_SIDE
    return possible & allowed


def may_give_progress_code(user: Any, case: Case) -> bool:
    """Who may hand the reporter a progress code (minyi.online: the reporter then follows
    the case online): those who meet or follow up the reporter for the studio and may
    write on the case (liaison, representative, the departments), never a handling
    unit, which answers the reporter through the system, not in person."""
    return (
        user.role != Role.HANDLING_UNIT_STAFF
        and Action.NOTE in permitted_actions(user, case)
        and can_see_reporter(user, case)
    )


def is_the_representative(user: Any, case: Case) -> bool:
    """The account is the case's own representative's (not someone acting for them)."""
    return case.representative_id in scope_of(user).representative_ids


def can_see_reporter(user: Any, case: Case) -> bool:
    """A reporter's identity and contacts are for those who must answer or follow them
    up. The handling unit sees them only while the case is its own (not once it has
    returned it as outside its remit), when the reporter did not ask otherwise and the
    case is not about that very unit."""
    if user.role == Role.HANDLING_UNIT_STAFF:
        return bool(
            user.handling_unit_id
            and case.handling_unit_id == user.handling_unit_id
            and not case.hide_identity_from_unit
            and case.about_unit_id != user.handling_unit_id
        )
    if getattr(case, SCOPED_FOR, None) == user.pk:
        return True  # fetched through Case.objects.for_user(user) in this request
    return Case.objects.for_user(user).filter(pk=case.pk).exists()


# Set by `fetched_in_scope` on a case read through `for_user`, so that the detail page
# does not ask the database again, once per check, whether the case is in scope.
SCOPED_FOR = "_minyi_scoped_for"


def fetched_in_scope(case: Case, user: Any) -> Case:
    """Mark a case just read through `Case.objects.for_user(user)` as in that scope."""
    setattr(case, SCOPED_FOR, user.pk)
    return case
