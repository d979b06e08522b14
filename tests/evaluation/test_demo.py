"""The demo walks journey 8's year-end part: `load_demo` opens the current year's
round with every studio pre-filled, once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from minyi.evaluation.models import CriterionScore, EvaluationRound, StudioAssessment
from minyi.studios.models import Studio
from tests.personas import build_mini_tree


@pytest.mark.django_db
def test_the_demo_opens_the_years_round_once() -> None:
    build_mini_tree()
    call_command("load_demo", stdout=StringIO())
    round = EvaluationRound.objects.get()
    assert round.year == timezone.localdate().year
    assert StudioAssessment.objects.filter(round=round).count() == Studio.objects.count() == 2
    assert CriterionScore.objects.filter(assessment__round=round).count() == 10
    assert not CriterionScore.objects.filter(evidence=[]).exists()
    call_command("load_demo", stdout=StringIO())
    assert EvaluationRound.objects.count() == 1
    assert CriterionScore.objects.count() == 10
