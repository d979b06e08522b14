"""Demo of the year-end evaluation for `make run` (journey 8, its year-end part): the
current year's round opened by the city, every studio pre-filled from the demo
records, outcomes left for the demo user to set. Idempotent: nothing is added when
the year's round exists."""

from __future__ import annotations

from django.utils import timezone

from minyi.evaluation.models import EvaluationRound
from minyi.evaluation.services import round_open
from minyi.people.models import User


def build_demo_evaluation() -> EvaluationRound | None:
    year = timezone.localdate().year
    if EvaluationRound.objects.filter(year=year).exists():
        return None
    return round_open(actor=User.objects.get(username="city"), year=year)
