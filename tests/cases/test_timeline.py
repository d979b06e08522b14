"""The case page's timeline is written in Python (minyi.cases.timeline): it says what
the template said, step for step, every value escaped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import Context, Template

from minyi.cases import services
from minyi.cases.models import Case, CaseStep, Satisfaction
from minyi.cases.states import Action
from minyi.cases.timeline import timeline
from minyi.org.models import HandlingUnit
from minyi.people.models import User
from tests.cases.helpers import register

pytestmark = pytest.mark.django_db

# The template's timeline before it was written in Python, over whole CaseStep models.
TEMPLATE = (Path(__file__).parent / "timeline_template.html").read_text(encoding="utf-8")


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _tags_apart(html: str) -> str:
    """Whitespace between tags, which a browser does not show, taken out."""
    return re.sub(r"\s*(<[^>]+>)\s*", r"\1", html).strip()


def _a_long_route() -> Case:
    """Every kind of line: sent, referred, urged, returned, escalated, answered, rated
    dissatisfied and reopened, a note with markup and line breaks, a system step."""
    urban = HandlingUnit.objects.get(name="沙头角街道城市管理办公室")
    street = _user("shatoujiao")
    case = services.case_send_to_street(case=register(), actor=_user("liaison"))
    case = services.case_refer(case=case, actor=street, handling_unit=urban)
    case = services.case_urge(case=case, actor=street, note="请尽快办理")
    services.case_answer(case=case, actor=_user("unit"), text="已处理。")
    services.case_evaluate(
        case=case,
        actor=street,
        rating=Satisfaction.DISSATISFIED,
        reporter_confirmed=True,
        representative_confirmed=True,
        street_head_confirmed=False,
        reopen=True,
    )
    case = services.case_return(case=case, actor=_user("unit"), reason="不属本单位职责")
    case = services.case_escalate(case=case, actor=street, reason="需区里协调")
    case = services.case_note(
        case=case, actor=_user("yantian"), text='第一行 <b>"加粗"</b> & 其他\n第二行'
    )
    CaseStep.objects.create(
        case=case,
        action=Action.FEEDBACK,
        actor=None,
        state_before=case.state,
        state_after=case.state,
        text="已抄送",
    )
    return case


def test_each_line_says_what_the_template_said(world: object) -> None:
    case = _a_long_route()
    steps = list(case.steps.order_by("at", "pk"))
    assert {s.action for s in steps} >= {
        Action.REGISTER,
        Action.SEND_TO_STREET,
        Action.REFER,
        Action.URGE,
        Action.RETURN,
        Action.ESCALATE,
        Action.NOTE,
        Action.ANSWER,
        Action.REOPEN,
        Action.FEEDBACK,
    }, {s.action for s in steps}
    expected = Template(TEMPLATE).render(Context({"steps": steps}))
    written = "".join(timeline(case.steps))
    assert _tags_apart(written) == _tags_apart(expected)
    assert "第一行 &lt;b&gt;&quot;加粗&quot;&lt;/b&gt; &amp; 其他<br>第二行" in written
    assert "<strong>系统</strong>" in written
    assert "评议结果：不满意" in written


def test_the_timeline_reads_names_not_whole_rows(world: object) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case = _a_long_route()
    with CaptureQueriesContext(connection) as read:
        lines = timeline(case.steps)
    assert len(read.captured_queries) == 1
    sql = read.captured_queries[0]["sql"]
    assert len(lines) == case.steps.count()
    # An account is named by its full name or username; nothing else of it (its
    # password hash least of all), of the departments or of the unit is read.
    assert "password" not in sql and '"phone"' not in sql and "remit" not in sql, sql
