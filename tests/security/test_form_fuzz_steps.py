"""Hostile input on the forms shown only after a valid post, which tests/security/
test_form_fuzz.py cannot reach from the access matrix's pages: the online report's
check page, the page after sending (withdrawal), the progress page reached with the
number and code (rating, withdrawal, more time, leave), the one-time code entry, an
import's dry run with its commit, and the second factor's code step after the password.

Each step is reached afresh for every hostile variant (a new browser, a valid first
step), so that one variant that is saved does not leave the next without its form; the
variants, the answer's judging and the snapshot of what was written are the sibling
file's (Walk, VARIANTS). Then what carries the state between the steps is tampered
with: a draft of another studio, a session with no draft, a replayed session cookie, a
double submit, an expired grant, a one-time code replayed or of another case, an
import of another user or of nothing, a second factor's code used twice.

Concurrent double submits (two requests racing on one session) are not covered here:
the test client is sequential."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve, reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from minyi.cases.models import Case
from minyi.documents.models import Import
from minyi.duties.models import Appointment
from minyi.online import services as online_services
from minyi.online.models import OnlineReport, ResidentRating
from minyi.people.models import Liaison, User
from minyi.studios.models import Studio
from tests.core.helpers import client_for, found
from tests.online.helpers import answered, form_data, studio, submit
from tests.security.test_form_fuzz import (
    VARIANTS,
    Form,
    Variant,
    Walk,
    _apply,
    _base,
    _files,
    _forms,
    _has_chinese_error,
    _local,
    _rolled_back,
    _snapshot,
    _snapshot_sql,
)

pytestmark = pytest.mark.django_db

OTHER_STUDIO = "大梅沙社区党代表工作室"


# --- walking a second step ---------------------------------------------------------------


def _fresh() -> None:
    """The limits per client and per phone live in the cache: every variant starts with
    none counted, as a new resident would."""
    cache = caches["default"]
    if isinstance(cache, LocMemCache):
        cache.clear()


Start = Callable[[Client], str]


def _second_forms(client: Client, url: str) -> list[Form]:
    page = client.get(url)
    assert page.status_code == 200, f"GET {url} after the first step: {page.status_code}"
    return _forms(page.content.decode())


def _tries(form: Form) -> Iterator[tuple[str, Variant | dict[str, Any]]]:
    # As given first: a form of buttons only (withdraw, commit) has nothing to make
    # hostile, but posting it must still work.
    yield "as-given", {}
    for variant in VARIANTS:
        yield variant.name, variant
    yield from _files(form)


def _fuzz_second_step(page: str, start: Start, client: Callable[[int], Client]) -> None:
    """Every form on the page `start` leads to, posted once per variant, each time
    after a fresh first step. `client(n)` is the n-th new browser."""
    sql, labels = _snapshot_sql()
    problems: list[str] = []
    with _rolled_back():
        _fresh()
        first = client(0)
        url = start(first)
        forms = _second_forms(first, url)
        assert forms, f"{page}: no form on {url}"
        walk = Walk(first, "resident/user", page, sql, labels, problems)
        n, posted = 1, 0
        for index, shown in enumerate(forms):
            action = _local(shown.action or url, url)
            assert action is not None
            view = resolve(urlsplit(action).path).view_name
            if view == "logout":
                continue
            for label, change in _tries(shown):
                _fresh()
                walk.client = client(n)
                n += 1
                url = start(walk.client)
                form = _second_forms(walk.client, url)[index]
                data = _apply(form, change) if isinstance(change, Variant) else _base(form) | change
                if data is None:
                    continue
                walk.post(action, f"{view} {label}", data)
                posted += 1
    print(f"{page}: {len(forms)} forms, {posted} posts")
    assert posted >= len(forms), f"{page}: only {posted} posts"
    assert not problems, "\n".join(problems)


def _resident(n: int) -> Client:
    return Client(REMOTE_ADDR=f"10.9.{n // 250}.{n % 250 + 1}", raise_request_exception=False)


def _draft(client: Client) -> str:
    """The first step of the online report, valid: the check page's address."""
    pk = studio().pk
    response = client.post(reverse("online:report_form", args=[pk]), form_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    return reverse("online:report_check", args=[pk])


def _sent(client: Client) -> str:
    submit(client)
    return reverse("online:report_done")


def _granted_on_answered_case(client: Client) -> str:
    """An answered case, then its number and progress code typed in this browser."""
    _, case, code = submit(Client(REMOTE_ADDR="10.8.0.1"))
    answered(case)
    response = client.post(reverse("online:lookup"), {"number": case.number, "code": code})
    assert response.status_code == 302
    return reverse("online:progress")


@pytest.fixture
def codes_sent(monkeypatch: Any) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []

    class Recorder:
        def send(self, phone: str, text: str, key: str) -> None:
            sent.append((phone, text))

    monkeypatch.setitem(online_services.CODE_CHANNELS, "console", Recorder())
    monkeypatch.setattr(settings, "MINYI_CONSOLE_CODES", True)
    return sent


def _code_asked(client: Client) -> str:
    _, case, _ = submit(Client(REMOTE_ADDR="10.8.0.2"))
    response = client.post(
        reverse("online:code_request"), {"number": case.number, "phone": "13800007777"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("online:code_check")
    return reverse("online:code_check")


def _sheet(rows: list[list[Any]]) -> bytes:
    from tests.documents.test_imports import sheet_bytes

    return sheet_bytes(rows)


def _liaison_sheet(name: str = "演示·导入联络员", phone: str = "13800000191") -> bytes:
    from tests.documents.test_imports import LIAISON_HEADERS, liaison_row

    return _sheet([LIAISON_HEADERS, liaison_row(name, phone)])


def _official(n: int) -> Client:
    return client_for(User.objects.get(username="shatoujiao"))


def _dry_run(client: Client) -> str:
    """An upload checked clean: the page with its commit button."""
    response = client.post(
        reverse("documents:import", args=["liaisons"]),
        {"file": SimpleUploadedFile("导入.xlsx", _liaison_sheet())},
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    return reverse("documents:import_detail", args=[Import.objects.latest("pk").pk])


def _code(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"


def _with_device(username: str = "shatoujiao") -> TOTPDevice:
    user = User.objects.get(username=username)
    return TOTPDevice.objects.create(user=user, name="手机身份验证器", confirmed=True)


def _password_given(client: Client) -> str:
    """Logged in with the password only: the code step's page."""
    client.force_login(User.objects.get(username="shatoujiao"))
    return reverse("twofactor:verify")


# --- the hostile variants on each second step --------------------------------------------


def test_the_online_report_check_page(world: Any) -> None:
    _fuzz_second_step("online:report_check", _draft, _resident)


def test_the_page_after_sending(world: Any) -> None:
    _fuzz_second_step("online:report_done", _sent, _resident)


def test_the_progress_page_of_an_answered_case(world: Any) -> None:
    _fuzz_second_step("online:progress", _granted_on_answered_case, _resident)


def test_the_one_time_code_entry(world: Any, codes_sent: Any) -> None:
    _fuzz_second_step("online:code_check", _code_asked, _resident)


def test_an_import_dry_run_and_its_commit(world: Any) -> None:
    _fuzz_second_step("documents:import_detail", _dry_run, _official)


def test_the_second_factor_code_step(world: Any) -> None:
    _with_device()
    _fuzz_second_step("twofactor:verify", _password_given, lambda n: Client())


# --- tampering with what carries the state -----------------------------------------------


class Judge:
    """Posts and the rules for a refusal: below 500, a Chinese message (on the answer or
    on the page it redirects to), nothing written."""

    def __init__(self) -> None:
        self.sql, self.labels = _snapshot_sql()

    def refused(self, client: Client, url: str, data: dict[str, Any] | None = None) -> Any:
        before = _snapshot(self.sql)
        response = client.post(url, data or {})
        assert response.status_code < 500, f"POST {url}: {response.status_code}"
        after = _snapshot(self.sql)
        changed = [
            self.labels[i] for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b
        ]
        assert not changed, f"POST {url} refused but wrote {changed}"
        return response


def _says_why(response: Any, client: Client) -> str:
    """The Chinese text that tells the person what happened: the answer's error, or the
    page a redirect leads to."""
    if 300 <= response.status_code < 400:
        shown = client.get(response["Location"])
        assert shown.status_code < 500
        return shown.content.decode()
    assert _has_chinese_error(response), response.content.decode()[:3000]
    return response.content.decode()


class TestTheOnlineReport:
    def test_a_double_send_makes_one_case_and_still_shows_the_code(self, world: Any) -> None:
        """A double click on 发送: the browser shows the second answer only. It must not
        make a second case, nor lead to an empty form that invites sending again; it
        leads to the confirmation with the number and the progress code."""
        client = Client()
        check = _draft(client)
        first = client.post(check, {"consent": "on"})
        assert first.status_code == 302
        cases = Case.objects.count()
        second = Judge().refused(client, check, {"consent": "on"})
        assert Case.objects.count() == cases
        assert second.status_code == 302 and second["Location"] == reverse("online:report_done")
        page = client.get(second["Location"]).content.decode()
        assert "编号" in page
        found(r'<span class="code">([^<]+)</span>', page)

    def test_a_replayed_session_cookie_sends_nothing_again(self, world: Any) -> None:
        client = Client()
        check = _draft(client)
        old = client.cookies[settings.SESSION_COOKIE_NAME].value
        assert client.post(check, {"consent": "on"}).status_code == 302
        cases = Case.objects.count()
        replay = Client()
        replay.cookies[settings.SESSION_COOKIE_NAME] = old
        response = Judge().refused(replay, check, {"consent": "on"})
        assert response.status_code == 302
        assert Case.objects.count() == cases

    def test_a_check_without_a_draft_goes_back_to_the_form(self, world: Any) -> None:
        check = reverse("online:report_check", args=[studio().pk])
        response = Judge().refused(Client(), check, {"consent": "on"})
        assert response.status_code == 302
        assert response["Location"] == reverse("online:report_form", args=[studio().pk])

    def test_a_draft_for_one_studio_is_not_sent_to_another(self, world: Any) -> None:
        client = Client()
        _draft(client)
        other = Studio.objects.get(name=OTHER_STUDIO)
        check = reverse("online:report_check", args=[other.pk])
        response = Judge().refused(client, check, {"consent": "on"})
        assert response.status_code == 302
        assert response["Location"] == reverse("online:report_form", args=[other.pk])

    def test_a_draft_whose_representative_left_is_not_sent(self, world: Any) -> None:
        from minyi.studios.models import StudioAssignment

        client = Client()
        check = _draft(client)
        StudioAssignment.objects.filter(studio=studio()).update(active=False)
        response = Judge().refused(client, check, {"consent": "on"})
        assert response.status_code == 302

    def test_a_studio_of_nothing(self, world: Any) -> None:
        client = Client()
        _draft(client)
        response = Judge().refused(
            client, reverse("online:report_check", args=[999999999]), {"consent": "on"}
        )
        assert response.status_code == 404 and "页面不存在" in response.content.decode()


class TestProgress:
    def test_a_rating_posted_twice_is_kept_once(self, world: Any) -> None:
        client = Client()
        _granted_on_answered_case(client)
        rate = reverse("online:progress_rate")
        assert client.post(rate, {"rating": "satisfied"}).status_code == 302
        assert ResidentRating.objects.count() == 1
        again = Judge().refused(client, rate, {"rating": "satisfied"})
        assert again.status_code == 400
        assert "已经评价过了" in _says_why(again, client)

    def test_an_expired_grant_shows_nothing_and_writes_nothing(self, world: Any) -> None:
        client = Client()
        _granted_on_answered_case(client)
        session = client.session
        access = session["online_access"]
        session["online_access"] = {**access, "until": int(time.time()) - 1}
        session.save()
        for name, data in (
            ("online:progress_rate", {"rating": "satisfied"}),
            ("online:progress_extend", {}),
            ("online:report_withdraw", {}),
        ):
            response = Judge().refused(client, reverse(name), data)
            assert response.status_code == 403, name
            assert _has_chinese_error(response), name

    def test_a_withdrawal_posted_twice(self, world: Any) -> None:
        client, case, _ = submit()
        withdraw = reverse("online:report_withdraw")
        assert client.post(withdraw).status_code == 302
        assert OnlineReport.objects.get(case=case).withdrawn_at is not None
        again = Judge().refused(client, withdraw)
        assert again.status_code == 400
        assert "不能撤回" in _says_why(again, client)

    def test_leaving_ends_the_grant(self, world: Any) -> None:
        client = Client()
        _granted_on_answered_case(client)
        assert client.post(reverse("online:progress_leave")).status_code == 302
        response = Judge().refused(client, reverse("online:progress_rate"), {"rating": "satisfied"})
        assert response.status_code == 403


class TestOneTimeCodes:
    def _asked(self, client: Client, sent: list[tuple[str, str]]) -> str:
        _code_asked(client)
        return found(r"验证码是 (\d{6})", sent[-1][1])

    def test_a_used_code_cannot_be_used_again(self, world: Any, codes_sent: Any) -> None:
        client = Client()
        code = self._asked(client, codes_sent)
        number = client.session["online_code_number"]
        assert client.post(reverse("online:code_check"), {"code": code}).status_code == 302
        replay = Client()
        session = replay.session
        session["online_code_number"] = number
        session.save()  # the test client's session sets its cookie when first read
        response = Judge().refused(replay, reverse("online:code_check"), {"code": code})
        assert response.status_code == 400
        assert "验证码不对或已过期" in response.content.decode()

    def test_a_code_of_another_case_is_refused(self, world: Any, codes_sent: Any) -> None:
        mine, other = Client(), Client()
        self._asked(mine, codes_sent)
        _fresh()
        code = self._asked(other, codes_sent)
        response = Judge().refused(mine, reverse("online:code_check"), {"code": code})
        # The code the other case was sent may match this case's by chance (1 in 10^6).
        assert response.status_code == 400

    def test_a_check_without_a_request_goes_back(self, world: Any) -> None:
        response = Judge().refused(Client(), reverse("online:code_check"), {"code": "123456"})
        assert response.status_code == 302
        assert response["Location"] == reverse("online:code_request")


class TestImportCommit:
    def test_a_double_commit_imports_once(self, world: Any) -> None:
        client = _official(0)
        detail = _dry_run(client)
        record = Import.objects.latest("pk")
        commit = reverse("documents:import_commit", args=[record.pk])
        assert client.post(commit).status_code == 302
        assert Liaison.objects.filter(name="演示·导入联络员").count() == 1
        again = Judge().refused(client, commit)
        assert again.status_code == 400 and "这份文件已经导入过了" in _says_why(again, client)
        assert client.get(detail).status_code == 200

    def test_another_users_dry_run_cannot_be_committed(self, world: Any) -> None:
        _dry_run(_official(0))
        record = Import.objects.latest("pk")
        other = client_for(User.objects.get(username="meisha"))
        response = Judge().refused(other, reverse("documents:import_commit", args=[record.pk]))
        assert response.status_code == 404 and _has_chinese_error(response)

    def test_a_dry_run_of_nothing(self, world: Any) -> None:
        response = Judge().refused(
            _official(0), reverse("documents:import_commit", args=[999999999])
        )
        assert response.status_code == 404 and _has_chinese_error(response)

    def test_a_dry_run_with_bad_rows_cannot_be_committed(self, world: Any) -> None:
        client = _official(0)
        response = client.post(
            reverse("documents:import", args=["liaisons"]),
            {"file": SimpleUploadedFile("导入.xlsx", _liaison_sheet(phone="12345"))},
        )
        assert response.status_code == 400
        record = Import.objects.latest("pk")
        refused = Judge().refused(client, reverse("documents:import_commit", args=[record.pk]))
        assert refused.status_code == 400 and "行有问题" in refused.content.decode()


class TestSecondFactor:
    def test_a_code_used_once_is_refused_the_second_time(self, world: Any) -> None:
        device = _with_device()
        code = _code(device)
        first = Client()
        _password_given(first)
        assert first.post(reverse("twofactor:verify"), {"token": code}).status_code == 302
        second = Client()
        _password_given(second)
        response = Judge().refused(second, reverse("twofactor:verify"), {"token": code})
        assert response.status_code == 400 and _has_chinese_error(response)

    @pytest.mark.parametrize(
        "target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"]
    )
    def test_the_hidden_next_cannot_lead_elsewhere(self, world: Any, target: str) -> None:
        device = _with_device()
        client = Client()
        verify = _password_given(client)
        response = client.post(verify, {"token": _code(device), "next": target})
        assert response.status_code == 302 and response["Location"] == "/"

    def test_the_enrolment_confirmed_twice_keeps_one_device(self, world: Any) -> None:
        client = client_for(User.objects.get(username="shatoujiao"))
        assert client.get(reverse("twofactor:enrol")).status_code == 200
        device = TOTPDevice.objects.get(user__username="shatoujiao")
        code = _code(device)
        enrol = reverse("twofactor:enrol")
        assert client.post(enrol, {"token": code}).status_code == 302
        again = Judge().refused(client, enrol, {"token": code})
        assert again.status_code == 302
        assert "您已绑定动态口令" in _says_why(again, client)
        assert TOTPDevice.objects.filter(user__username="shatoujiao").count() == 1


class TestPublicBooking:
    def test_a_booking_posted_twice_takes_one_place(self, world: Any) -> None:
        from tests.test_access_matrix import _bookable_event

        event = _bookable_event()
        url = reverse("duties:public_booking", args=[event.pk])
        page = Client().get(url).content.decode()
        form = next(f for f in _forms(page) if (f.action or url) == url or not f.action)
        data = _base(form) | {
            "name": "演示居民·王大爷",
            "phone": "13800005678",
            "topic": "工地夜间施工噪声扰民",
        }
        client = Client()
        assert client.post(url, data).status_code == 302
        taken = Appointment.objects.filter(event=event).count()
        again = Judge().refused(client, url, data)
        assert again.status_code in (302, 400)
        assert Appointment.objects.filter(event=event).count() == taken
        assert "预约" in _says_why(again, client)
