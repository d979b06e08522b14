"""Registration and the first routing steps read each thing once (issue 8): the blank
form's options come from one read per list and are the options of the fields' scoped
querysets; a registration does not look up again what it has just read; sending to the
street reads the department, not the studio's ancestors one by one; a step writes the
columns it changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minyi.audit.models import AuditEvent
from minyi.cases import services
from minyi.cases.forms import RegistrationForm
from minyi.people.models import User
from minyi.studios.models import Studio
from tests.cases.helpers import register
from tests.cases.test_pages import form_data
from tests.core.helpers import client_for

pytestmark = pytest.mark.django_db

CHOICE_FIELDS = ("studio", "representative", "about_unit")


@pytest.mark.parametrize("persona", ["liaison", "representative", "city_official"])
@pytest.mark.parametrize("hint", [None, "大梅沙社区党代表工作室"])
def test_the_blank_forms_options_are_those_of_the_scoped_querysets(
    world: Any, request: Any, persona: str, hint: str | None
) -> None:
    user = request.getfixturevalue(persona)
    studio_hint = Studio.objects.get(name=hint).pk if hint else None
    form = RegistrationForm(user=user, studio_hint=studio_hint)
    for name in CHOICE_FIELDS:
        field = form.fields[name]
        shown = str(form[name])
        field.widget.choices = field.choices  # Django's own, one model per option
        assert parse_html(shown) == parse_html(str(form[name])), name


def _existence_checks(queries: list[dict[str, Any]]) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('SELECT 1 AS "a"')]


def test_registering_looks_up_nothing_it_has_just_read(world: Any, liaison: User) -> None:
    client = client_for(liaison)
    client.get(reverse("cases:create"))  # warm the session
    with CaptureQueriesContext(connection) as posted:
        assert client.post(reverse("cases:create"), form_data()).status_code == 302
    checks = _existence_checks(posted.captured_queries)
    # The one rule of its own: the representative works at the studio.
    assert len(checks) == 1, checks
    assert 'FROM "studios_studioassignment"' in checks[0]


def test_sending_to_the_street_reads_no_ancestor_of_the_studio(world: Any) -> None:
    case = register()
    with CaptureQueriesContext(connection) as sent:
        case = services.case_send_to_street(case=case, actor=User.objects.get(username="liaison"))
    unit_reads = [q["sql"] for q in sent.captured_queries if 'FROM "org_orgunit" WHERE' in q["sql"]]
    assert unit_reads == []
    case.refresh_from_db()
    assert case.holder_department.unit == case.studio.unit.street
    assert case.holder_level == "street"


def test_a_step_writes_only_the_columns_it_changes(world: Any) -> None:
    case = register()
    with CaptureQueriesContext(connection) as sent:
        case = services.case_send_to_street(case=case, actor=User.objects.get(username="liaison"))
    (update,) = [
        q["sql"] for q in sent.captured_queries if q["sql"].startswith('UPDATE "cases_case"')
    ]
    assert '"holder_department_id"' in update and '"version"' in update
    assert '"reporter_phone"' not in update and '"content"' not in update
    case.refresh_from_db()
    assert case.version == 2 and case.state == "at_department"
    event = AuditEvent.objects.filter(object_type="cases.case", action="update").latest("id")
    assert event.fields == ["holder_department", "holder_level", "state", "updated_at", "version"]
