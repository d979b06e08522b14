"""A reporter who asked to stay hidden from the handling unit stays hidden everywhere the
unit looks (issue 7, item 3): every page in the URL conf the unit may open (the access
matrix's rules), every export it may download (PDF, Excel), the whole API as that unit,
and every log line written meanwhile. None shows the reporter's full phone or name.

Every case the access matrix's fixtures build is registered with the hidden reporter
(tests.cases.helpers.reporter_data is swapped), so each page a rule opens is about them.
"""

from __future__ import annotations

import io
import logging
import re
import subprocess
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse

from minyi.api.models import ApiToken
from minyi.cases.models import Case, CaseAttachment
from minyi.people.models import User
from tests import test_access_matrix as matrix
from tests.cases import helpers

NAME = "保密居民·李秀英"
PHONE = "+8613800007777"
HOME_PHONE = "+8675525557777"
# Every spelling a page, an export or a log line could use.
FORBIDDEN = [NAME, "李秀英", "13800007777", "138 0000 7777", "138-0000-7777", "25557777"]

PERSONA = "handling_unit_staff"


@pytest.fixture
def hidden_reporter(monkeypatch):
    original = helpers.reporter_data

    def reporter_data(**overrides: Any) -> dict[str, Any]:
        data = original(
            reporter_name=NAME,
            reporter_phone=PHONE,
            reporter_home_phone=HOME_PHONE,
            reporter_employer="盐田区某公司",
            hide_identity_from_unit=True,
        )
        data.update(overrides)
        return data

    monkeypatch.setattr(helpers, "reporter_data", reporter_data)


def _text(response: Any) -> str:
    """What a person reads in a response: HTML/JSON/CSV as text, a PDF through pdftotext,
    a workbook cell by cell."""
    content_type = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if "pdf" in content_type:
        result = subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=body, capture_output=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.decode()
    if "spreadsheetml" in content_type or body[:2] == b"PK":
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(
            str(cell)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        )
    return body.decode("utf-8", errors="replace")


def _leaks(text: str) -> list[str]:
    flat = re.sub(r"\s+", " ", text)
    return [value for value in FORBIDDEN if value in text or value in flat]


def _attach(case: Case) -> CaseAttachment:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from minyi.cases.attachments import case_attach

    upload = SimpleUploadedFile("现场.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    return case_attach(case=case, actor=case.registered_by, upload=upload)


@pytest.mark.django_db
def test_no_page_or_export_shows_the_unit_a_hidden_reporter(world, hidden_reporter, caplog):
    caplog.set_level(logging.DEBUG)
    # The unit's own case: referred to it, answered, with an attachment. Every rule whose
    # URL names a case is opened on this case; every other rule as the matrix opens it
    # (its fixtures register cases with the same hidden reporter).
    case = Case.objects.get(**matrix._case_answered(world))
    assert case.hide_identity_from_unit and case.reporter_name == NAME
    attachment = _attach(case)
    client = Client()
    client.force_login(User.objects.get(username=matrix.PERSONAS[PERSONA]))
    opened, leaks = [], {}
    for name, rule in sorted(matrix.RULES.items()):
        # GET pages, lists, feeds and downloads; and the one POST that shows data, the
        # reporter's full details (the unit must be refused).
        if rule.method != "get" and name != "cases:reporter":
            continue
        # Each rule's fixtures run in a savepoint rolled back afterwards: some build
        # records that may exist only once (a studio's plan for a year).
        with transaction.atomic():
            kwargs = rule.kwargs(world) if rule.kwargs else None
            if kwargs and rule.kwargs.__name__.startswith("_case"):
                kwargs = {**kwargs, "pk": case.pk}
                if "attachment_pk" in kwargs:
                    kwargs["attachment_pk"] = attachment.pk
            url = reverse(name, kwargs=kwargs)
            response = getattr(client, rule.method)(url, rule.data)
            if response.status_code == 200:
                opened.append(name)
            found = _leaks(_text(response))
            if found:
                leaks[url] = found
            transaction.set_rollback(True)
    # Every Excel export the unit may download, not only the one kind the matrix opens.
    from minyi.documents.excel.run import SPECS

    for kind in sorted(SPECS):
        url = reverse("documents:export", kwargs={"kind": kind})
        response = client.get(url)
        if response.status_code == 200:
            opened.append(f"export:{kind}")
        found = _leaks(_text(response))
        if found:
            leaks[url] = found
    assert not leaks, f"pages show the hidden reporter to the unit: {leaks}"
    assert not _leaks(caplog.text), "a log line shows the hidden reporter"
    # The walk did reach the unit's case, its lists and its documents.
    assert {"cases:list", "cases:detail", "home", "export:cases"} <= set(opened), opened
    assert "cases:reporter" not in opened
    print("opened as the unit:", opened)


@pytest.mark.django_db
def test_the_walk_would_see_a_leak(world, hidden_reporter):
    # The same case seen by the studio's liaison, who may see the reporter: the full
    # phone and name are there, so the checks above are not blind.
    case = Case.objects.get(**matrix._case_with_unit(world))
    client = Client()
    client.force_login(User.objects.get(username="liaison"))
    response = client.post(reverse("cases:reporter", args=[case.pk]))
    assert response.status_code == 200
    assert "13800007777" in _leaks(_text(response)) and NAME in _leaks(_text(response))
    unit = Client()
    unit.force_login(User.objects.get(username="unit"))
    page = _text(unit.get(reverse("cases:detail", args=[case.pk])))
    assert case.number in page  # the unit does see the case itself


@pytest.mark.django_db
def test_the_api_as_the_unit_never_shows_a_hidden_reporter(world, hidden_reporter, caplog):
    caplog.set_level(logging.DEBUG)
    case = Case.objects.get(**matrix._case_answered(world))
    _token, secret = ApiToken.issue(user=User.objects.get(username="unit"), name="保密测试")
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    schema = client.get("/api/v1/openapi.json").json()
    seen = 0
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        concrete = re.sub(r"\{[^}]+\}", str(case.pk), path)
        response = client.get(concrete)
        if response.status_code == 200:
            seen += 1
            text = response.content.decode()
            assert not _leaks(text), f"{concrete}: {_leaks(text)}"
    list_body = client.get("/api/v1/cases").json()
    assert case.number in str(list_body)  # the unit's API does list the case
    assert seen >= 2
    assert not _leaks(caplog.text)


@pytest.mark.django_db
def test_log_lines_of_the_periodic_jobs_show_no_hidden_reporter(
    world, hidden_reporter, caplog, settings
):
    settings.MINYI_REPORTER_CHANNEL = "console"
    caplog.set_level(logging.DEBUG)
    Case.objects.get(**matrix._case_answered(world))
    out = io.StringIO()
    call_command("deliver_feedback", stdout=out, stderr=out)
    call_command("case_reminders", stdout=out, stderr=out)
    assert "反馈 → 反映人" in caplog.text  # the reporter's copy was logged
    assert not _leaks(caplog.text + out.getvalue())
