"""Sending an opinion online: the registration form's fields, channel online, attachments
under the same checks, consent, identity hidden on request, number and progress code,
withdrawal for a short time, honeypot and limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from minyi.cases.models import Case, CaseAttachment, Channel, Occasion
from minyi.cases.states import Action, CaseState
from minyi.online import codes
from minyi.online.models import OnlineReport
from tests.online.helpers import form_data, studio, submit

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_an_opinion_sent_online_is_a_numbered_case_with_the_online_channel(world: Any) -> None:
    photo = SimpleUploadedFile("工地.png", PNG, content_type="image/png")
    client, case, code = submit(files=[photo])
    assert case.number.startswith("沙头角街道沙头角社区")
    assert case.channel == Channel.ONLINE and case.occasion == Occasion.ONLINE_STUDIO
    assert case.state == CaseState.REGISTERED and case.received_on == timezone.localdate()
    assert case.reporter_phone == "+8613800007777" and case.reporter_age == 70
    assert case.hide_identity_from_unit
    assert case.registered_by.username == "online-studio" and not case.registered_by.is_active
    assert not case.registered_by.has_usable_password()
    assert CaseAttachment.objects.filter(case=case).count() == 1
    # Only the keyed hash of the code is kept (the phone is on the case alone).
    report = OnlineReport.objects.get(case=case)
    assert code not in report.progress_code_hash
    assert report.progress_code_hash == codes.hash_progress_code(code)
    # The code is shown once: the confirmation page forgets it on the next visit.
    done = client.get(reverse("online:report_done")).content.decode()
    assert case.number in done and "接下来会怎样" in done
    assert code not in done
    from django.contrib.sessions.models import Session

    stored = " ".join(str(s.get_decoded()) for s in Session.objects.all())
    assert code not in stored


def test_the_check_page_shows_the_answers_before_anything_is_saved(world: Any) -> None:
    client = Client()
    url = reverse("online:report_form", args=[studio().pk])
    assert client.post(url, form_data(reporter_home_phone="0755 2522 1234")).status_code == 302
    check = client.get(reverse("online:report_check", args=[studio().pk])).content.decode()
    assert "工地夜间施工噪声扰民" in check and "13800007777" in check
    # The numbers as a resident writes them, not the stored international form.
    assert "+86" not in check and "0755-25221234" in check
    # Optional fields say so once, not "（可不附）（可不填）".
    assert "）（可不填）" not in check
    assert "您的个人信息怎么用" in check
    assert not Case.objects.exists()
    # Going back to change keeps what was typed.
    again = client.get(url).content.decode()
    assert "海山路工地" in again


def test_missing_fields_are_listed_at_the_top_with_links_and_nothing_is_kept(world: Any) -> None:
    client = Client()
    url = reverse("online:report_form", args=[studio().pk])
    response = client.post(url, form_data(summary="", reporter_phone="12345"))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'href="#id_summary"' in page and 'href="#id_reporter_phone"' in page
    assert "不是有效的电话号码" in page
    assert client.get(reverse("online:report_check", args=[studio().pk])).status_code == 302


@pytest.mark.parametrize("field", ["reporter_phone", "reporter_home_phone"])
def test_a_short_shenzhen_number_is_refused_with_what_is_expected(world: Any, field: str) -> None:
    # phonenumbers takes 0755-1234 as valid; a unit answering it would reach nobody.
    client = Client()
    url = reverse("online:report_form", args=[studio().pk])
    response = client.post(url, form_data(**{field: "0755-1234"}))
    assert response.status_code == 400
    page = response.content.decode()
    assert f'href="#id_{field}"' in page
    assert "“0755-1234”不是有效的电话号码" in page and "深圳区号0755后为8位" in page
    assert client.get(reverse("online:report_check", args=[studio().pk])).status_code == 302


def test_without_consent_or_with_a_bad_attachment_nothing_is_saved(world: Any) -> None:
    client = Client()
    pk = studio().pk
    client.post(reverse("online:report_form", args=[pk]), form_data())
    check = reverse("online:report_check", args=[pk])
    response = client.post(check, {})
    assert response.status_code == 400 and "勾选同意" in response.content.decode()
    fake = SimpleUploadedFile("a.png", b"MZ\x90\x00 not an image", content_type="image/png")
    response = client.post(check, {"consent": "on", "attachments": [fake]})
    assert response.status_code == 400 and "类型不受支持" in response.content.decode()
    many = [SimpleUploadedFile(f"{n}.png", PNG) for n in range(4)]
    response = client.post(check, {"consent": "on", "attachments": many})
    assert response.status_code == 400 and "最多上传 3 个附件" in response.content.decode()
    assert not Case.objects.exists() and not CaseAttachment.objects.exists()


def test_sizes_are_capped(world: Any, settings: Any) -> None:
    client = Client()
    url = reverse("online:report_form", args=[studio().pk])
    response = client.post(url, form_data(content="很" * 3001, reporter_name="名" * 51))
    assert response.status_code == 400
    page = response.content.decode()
    assert "不要超过 3000 字" in page
    settings.MAX_ATTACHMENT_BYTES = 100
    client.post(url, form_data())
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * 200)
    response = client.post(
        reverse("online:report_check", args=[studio().pk]), {"consent": "on", "attachments": [big]}
    )
    assert response.status_code == 400 and "请压缩后再上传" in response.content.decode()
    assert not Case.objects.exists()


def test_a_filled_honeypot_saves_nothing(world: Any) -> None:
    client = Client()
    url = reverse("online:report_form", args=[studio().pk])
    response = client.post(url, form_data(website="http://spam.example"))
    assert response.status_code == 200
    assert client.get(reverse("online:report_check", args=[studio().pk])).status_code == 302
    assert not Case.objects.exists()


def test_the_resident_may_withdraw_within_thirty_minutes(world: Any) -> None:
    client, case, _ = submit()
    response = client.post(reverse("online:report_withdraw"))
    assert response.status_code == 302
    report = OnlineReport.objects.get(case=case)
    assert report.withdrawn_at is not None
    # The case's life ends there (已撤回), by the case's own step, not a note.
    case.refresh_from_db()
    assert case.state == CaseState.WITHDRAWN
    step = case.steps.get(action=Action.WITHDRAW)
    assert "撤回" in step.text
    assert not case.steps.filter(action=Action.NOTE).exists()
    progress = client.get(reverse("online:progress")).content.decode()
    assert "您已撤回这次反映" in progress
    assert progress.count("您撤回了这次反映") == 1  # the step, once
    # A second withdrawal is refused in Chinese.
    response = client.post(reverse("online:report_withdraw"))
    assert response.status_code == 400 and "不能撤回" in response.content.decode()


def test_withdrawal_is_refused_after_the_window(world: Any) -> None:
    client, case, _ = submit()
    OnlineReport.objects.filter(case=case).update(
        withdraw_until=timezone.now() - timedelta(seconds=1)
    )
    response = client.post(reverse("online:report_withdraw"))
    assert response.status_code == 400
    assert OnlineReport.objects.get(case=case).withdrawn_at is None
    assert not case.steps.filter(action__in=[Action.NOTE, Action.WITHDRAW]).exists()
    assert Case.objects.get(pk=case.pk).state == CaseState.REGISTERED


def test_withdrawal_is_refused_once_the_studio_has_sent_it_on(world: Any) -> None:
    from minyi.cases.services import case_send_to_street
    from minyi.people.models import User

    client, case, _ = submit()
    case_send_to_street(case=case, actor=User.objects.get(username="liaison"))
    response = client.post(reverse("online:report_withdraw"))
    assert response.status_code == 400 and "不能撤回" in response.content.decode()
    assert OnlineReport.objects.get(case=case).withdrawn_at is None
    assert Case.objects.get(pk=case.pk).state == CaseState.AT_DEPARTMENT


def test_submissions_are_limited_per_client_and_per_phone(world: Any) -> None:
    for n in range(5):
        submit(ip="10.0.0.9", reporter_phone=f"1380000{n:04d}")
    client = Client(REMOTE_ADDR="10.0.0.9")
    client.post(reverse("online:report_form", args=[studio().pk]), form_data())
    response = client.post(reverse("online:report_check", args=[studio().pk]), {"consent": "on"})
    assert response.status_code == 429 and "操作过于频繁" in response.content.decode()
    # The same phone from fresh addresses: three a day.
    for n in range(3):
        submit(ip=f"10.1.0.{n}", reporter_phone="13800006666")
    client = Client(REMOTE_ADDR="10.1.0.99")
    client.post(
        reverse("online:report_form", args=[studio().pk]), form_data(reporter_phone="13800006666")
    )
    response = client.post(reverse("online:report_check", args=[studio().pk]), {"consent": "on"})
    assert response.status_code == 429
    assert Case.objects.count() == 8


def test_the_client_address_behind_a_trusted_proxy_is_the_key(world: Any, settings: Any) -> None:
    settings.MINYI_TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        client = Client(REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.5")
        submit(client, reporter_phone=f"1380001{n:04d}")
    # Another resident behind the same proxy is not blocked by the first one's limit.
    other = Client(REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.6")
    submit(other, reporter_phone="13800019999")
