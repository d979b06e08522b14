"""Building blocks for case tests: a registered case, and walking it along a route."""

from __future__ import annotations

from datetime import date
from typing import Any

from minyi.cases.models import Case, Channel, Occasion, Outcome
from minyi.cases.services import case_register
from minyi.people.models import Representative, User
from minyi.studios.models import Studio

STUDIO = "沙头角社区党代表工作室"


def reporter_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "channel": Channel.IN_PERSON,
        "occasion": Occasion.RECEPTION,
        "received_on": date(2026, 3, 4),
        "reporter_name": "演示居民·王大爷",
        "reporter_gender": "male",
        "reporter_age": 68,
        "reporter_phone": "+8613800005678",
        "reporter_home_address": "沙头角演示小区 3 栋 501",
        "summary": "工地夜间施工噪声扰民",
        "content": "附近工地每晚十点后仍在施工，影响休息，希望依法管理。",
        "outcome": Outcome.SENT_ON,
    }
    data.update(overrides)
    return data


def register(actor: User | None = None, **overrides: Any) -> Case:
    studio = Studio.objects.get(name=STUDIO)
    rep = Representative.objects.get(name="演示代表·陈明")
    actor = actor or User.objects.get(username="liaison")
    return case_register(
        actor=actor, studio=studio, representative=rep, data=reporter_data(**overrides)
    )
