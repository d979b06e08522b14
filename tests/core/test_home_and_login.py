"""Logging in and out, and each role's home page: what it answers for, in numbers."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from minyi.core.demo import DEMO_PASSWORD
from minyi.people.models import Role, User
from tests.core.helpers import client_for, text_of


class TestLogin:
    def test_the_login_page_is_open_to_everyone(self, world: Any) -> None:
        response = Client().get(reverse("login"))
        assert response.status_code == 200
        page = text_of(response)
        assert "<h1>登录</h1>" in page
        assert 'name="username"' in page
        assert 'name="password"' in page

    def test_a_visitor_is_sent_to_the_login_page(self, world: Any) -> None:
        response = Client().get(reverse("studios:list"))
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={reverse('studios:list')}"

    def test_a_demo_account_logs_in_and_lands_on_the_home_page(self, world: Any) -> None:
        client = Client()
        response = client.post(
            reverse("login"), {"username": "shatoujiao", "password": DEMO_PASSWORD}, follow=True
        )
        assert response.redirect_chain == [(reverse("home"), 302)]
        page = text_of(response)
        assert "您好，演示·沙头角街道 陈委员" in page
        assert "管辖范围：沙头角街道" in page

    def test_it_goes_back_to_the_page_asked_for(self, world: Any) -> None:
        response = Client().post(
            f"{reverse('login')}?next={reverse('studios:list')}",
            {"username": "liaison", "password": DEMO_PASSWORD, "next": reverse("studios:list")},
        )
        assert response["Location"] == reverse("studios:list")

    def test_it_does_not_send_anyone_to_another_site(self, world: Any) -> None:
        response = Client().post(
            reverse("login"),
            {"username": "liaison", "password": DEMO_PASSWORD, "next": "https://evil.example/"},
        )
        assert response["Location"] == reverse("home")

    @pytest.mark.parametrize(
        ("username", "password"),
        [
            ("shatoujiao", "wrong-password"),
            ("nobody", DEMO_PASSWORD),
            ("SHATOUJIAO", DEMO_PASSWORD),
        ],
    )
    def test_wrong_credentials_are_refused_in_chinese(
        self, world: Any, username: str, password: str
    ) -> None:
        client = Client()
        response = client.post(reverse("login"), {"username": username, "password": password})
        assert response.status_code == 200
        page = text_of(response)
        assert "用户名或密码不正确，请重新输入。" in page
        assert f'value="{username}"' in page
        assert client.get(reverse("home")).status_code == 302

    def test_an_inactive_account_cannot_log_in(self, world: Any) -> None:
        User.objects.filter(username="shatoujiao").update(is_active=False)
        response = Client().post(
            reverse("login"), {"username": "shatoujiao", "password": DEMO_PASSWORD}
        )
        assert response.status_code == 200
        assert "用户名或密码不正确" in text_of(response)


class TestLogout:
    def test_logging_out_ends_the_session(self, street_official: User) -> None:
        client = client_for(street_official)
        assert client.get(reverse("home")).status_code == 200
        response = client.post(reverse("logout"))
        assert response.status_code == 302
        assert response["Location"] == reverse("login")
        assert client.get(reverse("home")).status_code == 302

    def test_logging_out_needs_a_post(self, street_official: User) -> None:
        client = client_for(street_official)
        assert client.get(reverse("logout")).status_code == 405
        assert client.get(reverse("home")).status_code == 200

    def test_every_page_offers_a_logout_button(self, street_official: User) -> None:
        page = text_of(client_for(street_official).get(reverse("home")))
        assert f'action="{reverse("logout")}"' in page


# studios, representatives, liaisons, units, handling units
HOME_COUNTS = {
    "admin_user": (2, 4, 5, 14, 3),
    "city_official": (2, 4, 5, 13, 3),
    "district_official": (2, 4, 5, 8, 2),
    "street_official": (1, 3, 4, 4, 1),
    "outsider": (1, 1, 1, 3, 0),
    "liaison": (1, 3, 3, 1, 0),
    "representative": (1, 3, 3, 1, 0),
}  # a handling unit's start page is its own work: tests/core/test_unit_home.py


class TestHome:
    @pytest.mark.parametrize("persona", list(HOME_COUNTS))
    def test_each_role_sees_its_own_counts(self, world: Any, request: Any, persona: str) -> None:
        response = client_for(request.getfixturevalue(persona)).get(reverse("home"))
        assert response.status_code == 200
        context = response.context
        counts = (
            context["studio_count"],
            context["representative_count"],
            context["liaison_count"],
            context["unit_count"],
            context["handling_unit_count"],
        )
        assert counts == HOME_COUNTS[persona]
        assert not context["nothing"]
        page = text_of(response)
        assert f'<div class="big">{counts[0]}</div><a href="{reverse("studios:list")}">' in page
        assert "尚未分配角色" not in page

    def test_the_district_is_shown_the_plans_waiting_for_its_approval(
        self, district_official: User, street_official: User
    ) -> None:
        """A submitted plan told the district nothing: no notification, no count, only
        履职 → 年度计划 and its filter. The department that approves now sees it on its
        start page; the street department, which may not approve, does not."""
        from datetime import time

        from minyi.duties.models import AnnualPlan, PlanState
        from minyi.studios.models import Studio

        AnnualPlan.objects.create(
            studio=Studio.objects.get(name="沙头角社区党代表工作室"),
            year=2027,
            opening_weekday=2,
            opening_start=time(9),
            opening_end=time(12),
            state=PlanState.SUBMITTED,
        )
        response = client_for(district_official).get(reverse("home"))
        assert response.context["submitted_plans"] == 1
        link = f'<a href="{reverse("duties:plan_list")}?state=submitted">年度计划待审批</a>'
        assert link in text_of(response)
        response = client_for(street_official).get(reverse("home"))
        assert "年度计划待审批" not in text_of(response)

    def test_a_department_is_shown_the_reports_waiting_for_its_acknowledgement(
        self, street_official: User, liaison: User
    ) -> None:
        """A submitted bi-monthly report told the department nothing either."""
        from minyi.duties.models import BimonthlyReport, ReportState
        from minyi.studios.models import Studio

        BimonthlyReport.objects.create(
            studio=Studio.objects.get(name="沙头角社区党代表工作室"),
            year=2026,
            period=5,
            body="本期情况",
            state=ReportState.SUBMITTED,
        )
        response = client_for(street_official).get(reverse("home"))
        assert response.context["submitted_reports"] == 1
        link = f'<a href="{reverse("duties:report_list")}?state=submitted">双月报告待签收</a>'
        assert link in text_of(response)
        # The liaison who wrote it does not sign it.
        assert "双月报告待签收" not in text_of(client_for(liaison).get(reverse("home")))

    def test_retired_and_closed_records_are_not_counted(self, street_official: User) -> None:
        from django.utils import timezone

        from minyi.org.models import OrgUnit
        from minyi.studios.models import Studio

        OrgUnit.objects.filter(short_name="桥东社区").update(retired_at=timezone.now())
        Studio.objects.update(closed_at=timezone.now())
        context = client_for(street_official).get(reverse("home")).context
        assert (context["studio_count"], context["unit_count"]) == (0, 3)

    def test_the_counts_are_kept_until_the_organisation_changes(
        self, street_official: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        """The scope's counts are kept in the shared cache (minyi.cases.choice_cache);
        a saved representative shows on the next view."""
        from minyi.people.models import Representative

        client = client_for(street_official)
        before = client.get(reverse("home")).context["representative_count"]
        rep = Representative.objects.filter(active=True).first()
        assert rep is not None and street_official.unit is not None
        with django_capture_on_commit_callbacks(execute=True):
            Representative.objects.create(
                name="新任代表",
                unit=street_official.unit,
                level=rep.level,
                category=rep.category,
                phone="13800138001",
            )
        assert client.get(reverse("home")).context["representative_count"] == before + 1

    def test_the_studios_are_read_without_their_phones(self, street_official: User) -> None:
        """The start page's studios and liaisons bring only what the page and the SM 5 /
        SM 11 checks read: no encrypted phone decrypted for them."""
        response = client_for(street_official).get(reverse("home"))
        (studio, *_) = response.context["studios"]
        assert "phone" in studio.get_deferred_fields()
        assert all("phone" in item.get_deferred_fields() for item in studio.liaisons.all())
        assert [w.rule for w in studio.warnings] == [w.rule for w in studio.shortfalls()]

    def test_an_official_sees_the_unit_they_answer_for(self, district_official: User) -> None:
        page = text_of(client_for(district_official).get(reverse("home")))
        assert "区（新区）组织部门 · 管辖范围：盐田区" in page

    def test_the_representative_sees_their_own_record(self, representative: User) -> None:
        response = client_for(representative).get(reverse("home"))
        own = response.context["own_representative"]
        assert own is not None and own.user == representative
        assert "我的代表信息" in text_of(response)
        assert own.get_absolute_url() in text_of(response)

    def test_officials_have_no_own_representative_record(self, street_official: User) -> None:
        response = client_for(street_official).get(reverse("home"))
        assert response.context["own_representative"] is None
        assert "我的代表信息" not in text_of(response)

    def test_an_account_without_role_is_told_so(self, world: Any) -> None:
        user = User.objects.create_user("newcomer", full_name="新来的同事")
        response = client_for(user).get(reverse("home"))
        assert response.status_code == 200
        page = text_of(response)
        assert response.context["nothing"]
        assert "您的账号尚未分配角色或管辖范围，请联系上级组织部门的系统管理员。" in page
        assert "党代表工作室</a>" not in page.split("</nav>")[-1]

    def test_an_official_without_unit_is_told_so(self, world: Any) -> None:
        user = User.objects.create_user("unitless", role=Role.DISTRICT_OFFICIAL)
        page = text_of(client_for(user).get(reverse("home")))
        assert "尚未分配角色或管辖范围" in page

    def test_the_admin_is_shown_as_system_administrator(self, admin_user: User) -> None:
        page = text_of(client_for(admin_user).get(reverse("home")))
        assert "系统管理员" in page


def test_a_liaison_sees_the_bookings_waiting_for_confirmation(liaison: Any) -> None:
    # Journey 3: the liaison confirms a resident's booking; the start page says so.
    from minyi.duties.models import Appointment
    from tests.duties.test_appointments import make_event

    event = make_event()
    client = client_for(liaison)
    assert "群众预约待确认" not in text_of(client.get(reverse("home")))
    Appointment.objects.create(event=event, name="王女士", phone="13800138000", topic="噪声")
    page = text_of(client.get(reverse("home")))
    assert "群众预约待确认" in page and "?state=requested" in page
