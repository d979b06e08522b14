"""A resident sends an opinion to a representative who is deleted while they check
their answers: they are told in plain Chinese, the first step comes back filled in
with what they typed (the draft stays), and nothing is saved: no case, no report, no
serial taken, no photo left in storage. Transactional: the foreign keys are checked at
COMMIT."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from minyi.cases.models import Case, CaseNumberCounter
from minyi.online import services
from minyi.online.models import OnlineReport
from tests.cases.test_deleted_choices import (
    _case_audit_rows,
    _delete_representative,
    _deleted_first,
    _new_representative,
)
from tests.online.helpers import form_data, studio, submit

pytestmark = pytest.mark.django_db(transaction=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_representative_deleted_before_sending_is_told_and_the_draft_kept(
    world: Any, monkeypatch: Any
) -> None:
    rep = _new_representative()
    client = Client(REMOTE_ADDR="10.0.0.9")
    pk = studio().pk
    typed = form_data(representative=rep.pk, summary="楼道灯不亮", reporter_name="演示居民·孙阿姨")
    assert client.post(reverse("online:report_form", args=[pk]), typed).status_code == 302
    _deleted_first(
        monkeypatch, services, "online_report_submit", lambda: _delete_representative(rep)
    )
    audit_before = _case_audit_rows()

    photo = SimpleUploadedFile("灯.png", PNG, content_type="image/png")
    response = client.post(
        reverse("online:report_check", args=[pk]), {"consent": "on", "attachments": [photo]}
    )

    assert response.status_code == 409
    text = response.content.decode()
    assert "这次没有提交成功" in text and "照片或材料需要重新选择" in text
    assert "楼道灯不亮" in text and "演示居民·孙阿姨" in text
    assert "representative" in response.context["form"].errors
    assert not Case.objects.exists() and not OnlineReport.objects.exists()
    assert not CaseNumberCounter.objects.filter(last_serial__gt=0).exists()
    assert _case_audit_rows() == audit_before
    assert not [name for _, _, names in os.walk(settings.MEDIA_ROOT) for name in names]
    monkeypatch.undo()
    again = client.get(reverse("online:report_form", args=[pk])).content.decode()
    assert "楼道灯不亮" in again  # the draft is still in the session
    # Choosing another representative and sending works; the case takes the first number.
    _client, case, _code = submit(client, summary="楼道灯不亮")
    assert case.serial == 1
