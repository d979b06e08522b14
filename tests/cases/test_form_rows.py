"""The registration form's rows are written in Python (minyi.cases.form_rows): the
page says, byte for byte, what the template said, blank or posted with errors, and the
fragment htmx swaps when the studio changes is the same too."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.template import Context, Template, engines
from django.template.backends.django import DjangoTemplates
from django.urls import reverse

from minyi.cases.forms import RegistrationForm, RegistrationPageForm
from minyi.people.models import User
from minyi.studios.models import Studio
from tests.cases.test_pages import form_data
from tests.core.helpers import client_for

pytestmark = pytest.mark.django_db

# The template before its rows were written in Python.
FORMER = (Path(__file__).parent / "case_form_template.html").read_text(encoding="utf-8")
CURRENT = (Path(settings.BASE_DIR) / "minyi/templates/cases/case_form.html").read_text(
    encoding="utf-8"
)


def _content(source: str) -> Template:
    """The template's content block alone (the page around it is base.html's)."""
    body = re.search(r"{% block content %}(.*){% endblock %}", source, re.S)
    assert body is not None
    backend = engines["django"]
    assert isinstance(backend, DjangoTemplates)
    return Template(body.group(1), engine=backend.engine)


def _both(form: RegistrationForm) -> tuple[str, str]:
    context = {"form": form}
    return _content(FORMER).render(Context(context)), _content(CURRENT).render(Context(context))


def _fragment(source: str, form: RegistrationForm) -> str:
    template = _content(source)
    partial = template.extra_data["partials"]["representative_field"]
    context = Context({"form": form})
    with context.render_context.push_state(template):
        context.template = template
        return partial.render(context)


INVALID = {
    "reporter_name": "  ",
    "reporter_age": "abc",
    "reporter_employer": '<script>"甲" & 乙</script>',
    "channel": "other",
    "outcome": "on_the_spot",
    "spot_answer": "",
    "summary": "",
    "received_on": "2026-13-40",
    "representative": "999999",
}


@pytest.mark.parametrize("persona", ["liaison", "representative", "city_official"])
@pytest.mark.parametrize("hint", [None, "大梅沙社区党代表工作室"])
def test_the_blank_form_is_written_as_the_template_wrote_it(
    world: Any, request: Any, persona: str, hint: str | None
) -> None:
    user = request.getfixturevalue(persona)
    studio_hint = Studio.objects.get(name=hint).pk if hint else None
    former, current = _both(RegistrationPageForm(user=user, studio_hint=studio_hint))
    assert current == former
    assert 'id="id_studio"' in current and 'hx-target="#representative-field"' in current
    # No choice among the old studio's representatives while the new ones load.
    assert 'hx-disabled-elt="#id_representative"' in current


@pytest.mark.parametrize("overrides", [INVALID, {"studio": "abc", "outcome": ""}, {}])
def test_a_posted_form_with_errors_is_written_as_the_template_wrote_it(
    world: Any, liaison: User, overrides: dict[str, str]
) -> None:
    form = RegistrationPageForm(form_data(**overrides), {}, user=liaison)
    assert form.is_valid() is (not overrides)
    former, current = _both(form)
    assert current == former
    if overrides is INVALID:
        assert "年龄请填写整数。" in current and 'aria-invalid="true"' in current
        assert "&lt;script&gt;&quot;甲&quot; &amp; 乙&lt;/script&gt;" in current


@pytest.mark.parametrize("data", [None, INVALID])
def test_the_representatives_fragment_is_the_templates(
    world: Any, liaison: User, data: dict[str, str] | None
) -> None:
    form = RegistrationForm(form_data(**data) if data else None, {} if data else None, user=liaison)
    form.is_bound and form.is_valid()
    assert _fragment(CURRENT, form) == _fragment(FORMER, form)


def test_htmx_swaps_the_representatives_row(world: Any, liaison: User) -> None:
    studio = Studio.objects.get(name="沙头角社区党代表工作室")
    response = client_for(liaison).get(
        reverse("cases:create"),
        {"studio": studio.pk},
        headers={"HX-Request": "true", "HX-Target": "representative-field"},
    )
    html = response.content.decode()
    assert html.strip().startswith('<div id="representative-field">')
    assert 'name="representative"' in html and "<fieldset" not in html
