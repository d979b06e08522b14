import pytest
from django.core.management import call_command
from django.utils import timezone

from minyi.cases.models import Case
from minyi.cases.states import CaseState


@pytest.mark.django_db
def test_the_demo_has_a_case_at_each_stage_and_loads_only_once(world, capsys):
    call_command("load_demo")
    call_command("load_demo")
    states = sorted(Case.objects.values_list("state", flat=True))
    assert states == sorted(
        [CaseState.CLOSED, CaseState.REGISTERED, CaseState.WITH_UNIT, CaseState.ANSWERED]
    )
    overdue = Case.objects.get(state=CaseState.WITH_UNIT)
    assert overdue.due_on < timezone.localdate()
    assert "演示账号" in capsys.readouterr().out
