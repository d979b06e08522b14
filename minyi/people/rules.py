"""Rules about people that forms and imports share."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError

from minyi.org.models import Level, OrgUnit


def check_linked_communities(communities: Sequence[OrgUnit]) -> None:
    """CM 2: a city representative is fixed to one community or two adjacent ones.
    Adjacency is not in the division data; two communities of the same street is the
    check we can make, and a pair across streets is certainly not adjacent enough."""
    if len(communities) > 2:
        raise ValidationError("联系社区最多两个（一个社区或两个相邻社区）。", code="too_many")
    for unit in communities:
        if unit.level != Level.COMMUNITY:
            raise ValidationError(f"“{unit.name}”不是社区。", code="not_community")
    if len(communities) == 2 and communities[0].street_id != communities[1].street_id:
        raise ValidationError(
            "两个联系社区须相邻，不能分属不同街道（“%(a)s”与“%(b)s”）。",
            code="different_streets",
            params={"a": communities[0].short_name, "b": communities[1].short_name},
        )
