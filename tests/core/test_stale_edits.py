"""Two people editing one record (minyi.core.stale): the later save is refused with
what its user typed kept, instead of silently overwriting the earlier one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db.models import Model
from django.urls import reverse

import minyi
from minyi.core import stale
from minyi.core.models import StampedQuerySet
from minyi.core.views_base import FormPage
from minyi.duties import plans
from minyi.duties.models import AnnualPlan, Event
from minyi.org.models import HandlingUnit, OrgUnit
from minyi.org.services import unit_merge
from minyi.people.models import Liaison, Representative
from minyi.studios.models import Studio
from tests.core.helpers import client_for, post_data_from, text_of
from tests.duties.test_appointments import make_event
from tests.org.test_tree_editing import (
    QIAODONG,
    SHATOUJIAO,
    qiaodong_with_things,  # noqa: F401 (a fixture)
)

STUDIO = "沙头角社区党代表工作室"
REFUSED = "这条记录已被他人修改"
UNVERSIONED = "此页面已过期"
PAST = datetime(2020, 1, 1, tzinfo=UTC)


def _two_edits(user: Any, url: str) -> tuple[Any, Any, dict[str, Any], dict[str, Any]]:
    """Two people (here two browsers of one account) open the same edit page."""
    first, second = client_for(user), client_for(user)
    first_data = post_data_from(first.get(url))
    second_data = post_data_from(second.get(url))
    assert first_data[stale.FIELD] and first_data[stale.FIELD] == second_data[stale.FIELD]
    return first, second, first_data, second_data


def _refused_then_saved(second: Any, url: str, data: dict[str, Any], typed: str) -> tuple[Any, Any]:
    refused = second.post(url, data)
    assert refused.status_code == 409
    page = text_of(refused)
    assert REFUSED in page and typed in page  # nothing the user typed is lost
    again = second.post(url, post_data_from(refused))  # saving again, knowingly
    return refused, again


def test_a_studio_edited_by_two_people_refuses_the_later_save(street_official: Any) -> None:
    studio = Studio.objects.get(name=STUDIO)
    url = reverse("studios:edit", args=[studio.pk])
    first, second, first_data, second_data = _two_edits(street_official, url)

    assert first.post(url, {**first_data, "address": "第一次修改的地址"}).status_code == 302
    _, again = _refused_then_saved(
        second, url, {**second_data, "address": "第二个人填写的地址"}, "第二个人填写的地址"
    )
    assert again.status_code == 302
    assert Studio.objects.get(pk=studio.pk).address == "第二个人填写的地址"


def test_the_refused_save_writes_nothing(street_official: Any) -> None:
    studio = Studio.objects.get(name=STUDIO)
    url = reverse("studios:edit", args=[studio.pk])
    first, second, first_data, second_data = _two_edits(street_official, url)
    first.post(url, {**first_data, "address": "先保存的地址"})
    second.post(url, {**second_data, "address": "后保存的地址"})
    assert Studio.objects.get(pk=studio.pk).address == "先保存的地址"


def test_an_unchanged_record_saves_as_before(street_official: Any) -> None:
    studio = Studio.objects.get(name=STUDIO)
    url = reverse("studios:edit", args=[studio.pk])
    client = client_for(street_official)
    data = post_data_from(client.get(url))
    assert client.post(url, {**data, "address": "只有一个人修改"}).status_code == 302
    # A second edit from the page reloaded after the first is not refused.
    data = post_data_from(client.get(url))
    assert client.post(url, {**data, "address": "再改一次"}).status_code == 302


def test_a_representative_edited_by_two_people(street_official: Any) -> None:
    rep = Representative.objects.get(name="演示代表·陈明")
    url = reverse("people:representative_edit", args=[rep.pk])
    first, second, first_data, second_data = _two_edits(street_official, url)
    assert first.post(url, {**first_data, "employer": "第一次填写的单位"}).status_code == 302
    refused = second.post(url, {**second_data, "employer": "第二次填写的单位"})
    assert refused.status_code == 409 and "第二次填写的单位" in text_of(refused)
    assert Representative.objects.get(pk=rep.pk).employer == "第一次填写的单位"


def test_an_event_edited_by_two_people(liaison: Any) -> None:
    event = make_event(state="planned")
    url = reverse("duties:event_edit", args=[event.pk])
    first, second, first_data, second_data = _two_edits(liaison, url)
    assert first.post(url, {**first_data, "place": "社区党群服务中心"}).status_code == 302
    _, again = _refused_then_saved(
        second, url, {**second_data, "place": "社区活动室二楼"}, "社区活动室二楼"
    )
    assert again.status_code == 302
    assert Event.objects.get(pk=event.pk).place == "社区活动室二楼"


def test_an_annual_plan_edited_by_two_people(liaison: Any) -> None:
    plan = plans.plan_create(
        actor=liaison,
        studio=Studio.objects.get(name=STUDIO),
        year=2027,
        opening_weekday=2,
        opening_start=time(9),
        opening_end=time(12),
        place="工作室",
    )
    url = reverse("duties:plan_edit", args=[plan.pk])
    first, second, first_data, second_data = _two_edits(liaison, url)
    assert first.post(url, {**first_data, "place": "第一次填写的地点"}).status_code == 302
    _, again = _refused_then_saved(
        second, url, {**second_data, "place": "第二次填写的地点"}, "第二次填写的地点"
    )
    assert again.status_code == 302
    assert AnnualPlan.objects.get(pk=plan.pk).place == "第二次填写的地点"


@pytest.mark.parametrize("loaded", ["", None])
def test_a_post_without_the_version_is_refused_then_saved_from_the_page_it_gets(
    street_official: Any, loaded: Any
) -> None:
    # A page rendered before this check existed and left open across the deploy, or a
    # script posting only the fields: it cannot show the record is unchanged.
    studio = Studio.objects.get(name=STUDIO)
    url = reverse("studios:edit", args=[studio.pk])
    client = client_for(street_official)
    data = post_data_from(client.get(url))
    data.pop(stale.FIELD)
    if loaded is not None:
        data[stale.FIELD] = loaded
    refused = client.post(url, {**data, "address": "旧页面提交"})
    assert refused.status_code == 409
    page = text_of(refused)
    assert UNVERSIONED in page and REFUSED not in page and "旧页面提交" in page
    assert Studio.objects.get(pk=studio.pk).address != "旧页面提交"
    again = client.post(url, post_data_from(refused))  # reviewed, saved again
    assert again.status_code == 302
    assert Studio.objects.get(pk=studio.pk).address == "旧页面提交"


def test_an_event_posted_without_the_version_is_refused(liaison: Any) -> None:
    # The events' and plans' pages are views of their own, not FormPage.
    event = make_event(state="planned")
    url = reverse("duties:event_edit", args=[event.pk])
    client = client_for(liaison)
    data = post_data_from(client.get(url))
    del data[stale.FIELD]
    refused = client.post(url, {**data, "place": "旧页面填写的地点"})
    assert refused.status_code == 409 and UNVERSIONED in text_of(refused)
    assert Event.objects.get(pk=event.pk).place != "旧页面填写的地点"
    assert client.post(url, post_data_from(refused)).status_code == 302
    assert Event.objects.get(pk=event.pk).place == "旧页面填写的地点"


def test_creating_a_record_needs_no_version(street_official: Any) -> None:
    client = client_for(street_official)
    data = post_data_from(
        client.get(reverse("studios:edit", args=[Studio.objects.get(name=STUDIO).pk]))
    )
    data.pop(stale.FIELD)
    data["name"] = "新建的社区党代表工作室"
    created = client.post(reverse("studios:create"), data)
    assert created.status_code == 302, text_of(created)
    assert Studio.objects.filter(name="新建的社区党代表工作室").exists()


def test_a_bulk_update_is_noticed_by_an_open_edit_page(street_official: Any) -> None:
    studio = Studio.objects.get(name=STUDIO)
    url = reverse("studios:edit", args=[studio.pk])
    client = client_for(street_official)
    data = post_data_from(client.get(url))
    # A bulk job, a merge, an import: queryset.update(), no save().
    Studio.objects.filter(pk=studio.pk).update(address="批量作业写入的地址")
    refused = client.post(url, {**data, "notes": "页面上的修改"})
    assert refused.status_code == 409 and REFUSED in text_of(refused)
    assert Studio.objects.get(pk=studio.pk).address == "批量作业写入的地址"


def test_a_bulk_update_keeps_an_updated_at_it_is_given(world: Any) -> None:
    studio = Studio.objects.get(name=STUDIO)
    Studio.objects.filter(pk=studio.pk).update(updated_at=PAST)
    assert Studio.objects.get(pk=studio.pk).updated_at == PAST


@pytest.mark.usefixtures("qiaodong_with_things")
def test_a_merge_moves_the_version_of_every_record_it_changes(world: Any) -> None:
    moved: list[Studio | Liaison | Representative | HandlingUnit] = [
        Studio.objects.get(name="桥东社区党代表工作室"),
        Liaison.objects.get(name="桥东书记"),
        Representative.objects.get(name="演示代表·陈明"),  # its link to 桥东社区 is dropped
        Representative.objects.get(name="演示代表·何建国"),  # its link moves to 沙头角社区
        HandlingUnit.objects.create(area=world[QIAODONG], name="桥东社区物业服务中心"),
    ]
    for row in moved:
        type(row).objects.filter(pk=row.pk).update(updated_at=PAST)
    unit_merge(source=world[QIAODONG], target=world[SHATOUJIAO])
    for row in moved:
        assert type(row).objects.get(pk=row.pk).updated_at > PAST, row


def _edited_models() -> set[type[Model]]:
    """Every model an edit page checks: the FormPage views' models, and the models named
    in a `stale.check(...)` call anywhere in minyi/."""
    import_module(settings.ROOT_URLCONF)  # every view module is loaded
    pages: list[type] = [FormPage]
    found: set[type[Model]] = set()
    while pages:
        page = pages.pop()
        pages += page.__subclasses__()
        if (model := getattr(page, "model", None)) is not None:
            found.add(model)
    by_name = {model.__name__: model for model in apps.get_models()}
    for path in Path(minyi.__file__).parent.rglob("*.py"):
        for name in re.findall(r"stale\.check\(\s*\w+,\s*(\w+)\s*,", path.read_text()):
            found.add(by_name[name])
    return {m for m in found if any(f.name == "updated_at" for f in m._meta.fields)}


def test_every_record_an_edit_page_checks_moves_its_version_on_a_bulk_update() -> None:
    # Without it a queryset.update() (a merge, an import, a later bulk job) changes a
    # record unseen by its open edit pages, whose save then puts the old values back.
    edited = _edited_models()
    assert {OrgUnit, HandlingUnit, Studio, Representative, Liaison, Event, AnnualPlan} <= edited
    for model in edited:
        assert isinstance(model._default_manager.all(), StampedQuerySet), model
