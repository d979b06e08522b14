"""Answer copies to the reporter through the SMS gateway (channel "http"): the outbox
records a failed send and the next deliver_feedback run sends it again under the same
idempotency key; the phone never shows in a log line or a stored error."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import call_command

from minyi.cases.delivery import MAX_ATTEMPTS, deliver_pending
from minyi.cases.models import DeliveryStatus, FeedbackCopy, Recipient
from tests.online.helpers import answered, submit
from tests.sms_gateway import refused_url

pytestmark = pytest.mark.django_db

PHONE_FORMS = ("13800007777", "138 0000 7777", "0000 7777")


def _reporters_copy(settings) -> FeedbackCopy:
    settings.MINYI_REPORTER_CHANNEL = "http"
    _, case, _ = submit()
    answered(case)
    return FeedbackCopy.objects.get(answer__case=case, recipient=Recipient.REPORTER)


def test_the_reporters_copy_goes_to_the_gateway_with_its_id(world, settings, sms_gateway):
    copy = _reporters_copy(settings)
    assert copy.channel == "http"
    assert deliver_pending() == (1, 0)
    [request] = sms_gateway.requests
    sent = json.loads(request["body"])
    assert sent["phone"] == "+8613800007777" and sent["id"] == f"feedback-copy-{copy.pk}"
    assert copy.answer.case.number in sent["text"] and "已责令工地" in sent["text"]
    copy.refresh_from_db()
    assert copy.status == DeliveryStatus.SENT and copy.attempts == 1


def test_a_gateway_that_is_down_is_recorded_and_tried_again_next_run(
    world, settings, sms_gateway, caplog
):
    caplog.set_level(logging.DEBUG)
    copy = _reporters_copy(settings)
    sms_gateway.status = 500
    out = io.StringIO()
    call_command("deliver_feedback", stdout=out, stderr=out)
    copy.refresh_from_db()
    assert copy.status == DeliveryStatus.PENDING and copy.attempts == 1
    assert "短信网关没有接受（HTTP 500）" in copy.last_error
    sms_gateway.status = 200
    call_command("deliver_feedback", stdout=out, stderr=out)
    copy.refresh_from_db()
    assert copy.status == DeliveryStatus.SENT and copy.attempts == 2
    keys = [json.loads(r["body"])["id"] for r in sms_gateway.requests]
    assert keys == [f"feedback-copy-{copy.pk}"] * 2  # the gateway can drop a repeat
    for text in (caplog.text, out.getvalue(), copy.last_error):
        assert not any(form in text for form in PHONE_FORMS), text


@pytest.mark.parametrize("down", ["refused", "slow", "redirect"])
def test_each_kind_of_failure_is_recorded_without_the_phone(
    world, settings, sms_gateway, caplog, down
):
    caplog.set_level(logging.DEBUG)
    copy = _reporters_copy(settings)
    if down == "refused":
        settings.MINYI_SMS_URL = refused_url()
    elif down == "slow":
        sms_gateway.delay = 2.0
    else:
        sms_gateway.status, sms_gateway.location = 302, "https://elsewhere.example/"
    assert deliver_pending() == (0, 0)
    copy.refresh_from_db()
    assert copy.status == DeliveryStatus.PENDING
    assert copy.last_error.startswith("SmsError: 短信网关")
    for text in (caplog.text, copy.last_error):
        assert not any(form in text for form in PHONE_FORMS), text


def test_the_copy_fails_for_good_after_the_last_attempt(world, settings, sms_gateway):
    copy = _reporters_copy(settings)
    sms_gateway.status = 400
    for _ in range(MAX_ATTEMPTS - 1):
        deliver_pending()
    assert deliver_pending() == (0, 1)
    copy.refresh_from_db()
    assert copy.status == DeliveryStatus.FAILED and copy.attempts == MAX_ATTEMPTS


def test_a_reporter_without_a_mobile_is_not_sent_a_text(world, settings, sms_gateway):
    copy = _reporters_copy(settings)
    FeedbackCopy.objects.filter(pk=copy.pk).update(address="海山路 1 号")
    deliver_pending()
    copy.refresh_from_db()
    assert copy.status == DeliveryStatus.PENDING and "没有留手机号码" in copy.last_error
    assert sms_gateway.requests == []


def test_a_long_answer_is_cut_in_the_text_message_and_points_to_the_online_studio(
    world, settings, sms_gateway
):
    from minyi.cases.delivery import SMS_ANSWER_CHARS, SMS_MORE
    from minyi.cases.models import Answer

    copy = _reporters_copy(settings)
    long_text = "经现场核查，" + "已协调施工单位整改。" * 300  # some 3,000 characters
    Answer.objects.filter(pk=copy.answer_id).update(text=long_text)
    Case = copy.answer.case.__class__
    Case.objects.filter(pk=copy.answer.case_id).update(summary="工地夜间施工噪音" * 20)
    assert deliver_pending() == (1, 0)
    [request] = sms_gateway.requests
    text = json.loads(request["body"])["text"]
    assert text.endswith(SMS_MORE) and long_text[:SMS_ANSWER_CHARS] in text
    assert long_text[: SMS_ANSWER_CHARS + 1] not in text
    assert len(text) < 400
