"""What an account may see, in words: the account list and the token pages say it the
same way. An account's unit or handling unit, or, for an account that is a person's own
(a liaison's, a stand-in secretary's, a representative's), that person's studio,
community or studios; the person's name alone said nothing of what the account reaches."""

from __future__ import annotations

from django.db.models import Prefetch

from minyi.people.models import Role, User
from minyi.studios.models import StudioAssignment

# What scope_label reads of an account, relative to the account.
SCOPE_RELATED = (
    "unit",
    "handling_unit",
    "liaison__studio",
    "liaison__community",
    "representative",
)


def scope_prefetch(prefix: str = "") -> Prefetch:
    """The representative's active studios, for accounts read at `prefix` (e.g.
    "user__" from tokens), in one query however many accounts."""
    return Prefetch(
        f"{prefix}representative__assignments",
        queryset=StudioAssignment.objects.filter(active=True)
        .select_related("studio")
        .only("representative_id", "studio__name")
        .order_by("studio__name"),
        to_attr="active_assignments",
    )


def scope_label(account: User) -> str:
    """What `account` covers, as the pages say it."""
    if account.is_superuser:
        return "全部（系统管理员）"
    if account.unit is not None:
        return account.unit.name
    if account.handling_unit is not None:
        return account.handling_unit.name
    liaison = getattr(account, "liaison", None)
    if account.role == Role.LIAISON and liaison is not None:
        if not liaison.active:
            return f"无（联络员{liaison.name}已不在岗）"
        if liaison.studio is not None:
            return f"{liaison.studio.name}（联络员：{liaison.name}）"
        if liaison.community is not None:
            return f"{liaison.community.name}（代行联络员：{liaison.name}）"
    representative = getattr(account, "representative", None)
    if account.role == Role.REPRESENTATIVE and representative is not None:
        if not representative.active:
            return f"无（党代表{representative.name}已不在任）"
        studios = "、".join(a.studio.name for a in representative.active_assignments)
        own = f"党代表{representative.name}本人的履职和社情民意"
        return f"{own}；工作室：{studios}" if studios else own
    return "无（该账号没有可见范围）"
