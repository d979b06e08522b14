"""Hostile input on every server-rendered form: the pages' counterpart of
tests/api/test_schemathesis.py, for the rule "bad input gets a clear Chinese message
and loses nothing; no 500s; nothing half-saved".

For each page of the access matrix (tests/test_access_matrix.py RULES) and each persona
that may GET it, every `<form method="post">` on the page is posted back several times,
each time with one kind of field made hostile and the rest as the page gave them:
everything empty, overlong text, impossible dates, bad numbers, ids of nothing or of
another street's records, NUL bytes, markup, hidden fields changed, a missing or stale
version, bogus files.
Every answer must be below 500 with no exception raised. An answer that is not a
redirect (the pages' way of saying "saved") must say what is wrong in Chinese; so must a
redirect back with an error message. Either way, a refused post must have changed
nothing in the database (row counts, the latest `updated_at`, the sum of `version`s of
every table but the audit trail's). Markup must never come back unescaped, on the
answer or on the page a saved post leads to. After a save the walk re-reads the page,
so the next variant is judged against the record as it is now.

Forms shown only after a valid post (the online report's check page, an import's dry
run, the second factor's code step) are walked by test_form_fuzz_steps.py with these
variants; the API by tests/api/test_schemathesis.py.

One test per page, so a failure names the page; the personas are walked inside it, each
in a savepoint rolled back afterwards, because building the shared world per persona
and page would cost minutes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import got_request_exception
from django.db import connection, transaction
from django.test import Client
from django.urls import Resolver404, get_resolver, resolve, reverse

from minyi.cases.models import Case
from minyi.org.models import HandlingUnit, OrgUnit
from minyi.people.models import Liaison, Representative
from minyi.studios.models import Studio
from tests.personas import PERSONAS
from tests.test_access_matrix import (
    RULES,
    Rule,
    _case_answered,
    _case_at_department,
    _case_extension_requested,
    _case_with_unit,
    _eval_drafting,
    _eval_submitted,
    _user,
)

FUZZED = [
    "anonymous",
    "liaison",
    "representative",
    "street_official",
    "district_official",
    "city_official",
    "handling_unit_staff",
]
# The resident's pages: walked anonymously only (logged-in staff see the same forms).
PUBLIC = {"login"} | {name for name in RULES if name.startswith("online:")}
PUBLIC.add("duties:public_booking")
# Forms that change nothing and answer 200 (the reporter's or the booker's details in
# full): no error message is owed for them.
READS = {"cases:reporter", "duties:appointment_booker"}

# A case's and an evaluation round's step forms appear only in the states that allow
# them: the detail pages are walked in each state too, built by the matrix's helpers.
STATES: dict[str, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    "cases:detail@department": ("cases:detail", _case_at_department),
    "cases:detail@unit": ("cases:detail", _case_with_unit),
    "cases:detail@extension": ("cases:detail", _case_extension_requested),
    "cases:detail@answered": ("cases:detail", _case_answered),
    "evaluation:round@drafting": ("evaluation:round", lambda w: {"pk": _eval_drafting(w).pk}),
    "evaluation:round@submitted": (
        "evaluation:round",
        lambda w: {"pk": _eval_submitted(w).pk},
    ),
}

MARKUP = '<script>alert("fz")</script><img src=x onerror=alert(1)>'
NOTHING = "999999999"
# Hidden from people: filled in, the public forms take the post for a bot's and
# pretend to save it. Left as the page gave it.
HONEYPOT = "website"
TEXT_TYPES = {"text", "email", "tel", "search", "url", "password", ""}
DATE_TYPES = {"date", "datetime-local", "time", "month"}
CJK = re.compile(r"[\u4e00-\u9fff]")
# An error message on the page a post redirected to (base.html's message list).
ERROR_MESSAGE = re.compile(r'<li class="error">(.*?)</li>', re.S)


# --- which pages, for whom -------------------------------------------------------------


def _route(name: str) -> str:
    resolver = get_resolver()
    *namespaces, short = name.split(":")
    for namespace in namespaces:
        resolver = resolver.namespace_dict[namespace][1]
    return str(resolver.reverse_dict.getlist(short)[0][1])


def _is_page(name: str, rule: Rule) -> bool:
    """A GET that answers a page: files (PDF, Excel, calendars, photos, attachments)
    have nothing to post."""
    route = _route(name).removesuffix(r"\Z")
    files = (r"\.pdf", r"\.xlsx", r"\.ics", "/photo/", "/download/")
    return rule.method == "get" and not route.endswith(files) and "/attachments/" not in route


def _readers(name: str, rule: Rule) -> list[str]:
    if name in PUBLIC:
        return ["anonymous"] if rule.anonymous == 200 else []
    return [
        p
        for p in FUZZED
        if p != "anonymous" and rule.ok_status == 200 and p in rule.ok and rule.expected(p) == 200
    ]


def _pages() -> list[str]:
    names = [n for n, r in RULES.items() if _is_page(n, r) and _readers(n, r)]
    return sorted(names) + sorted(STATES)


# --- reading forms ---------------------------------------------------------------------


@dataclass
class Field:
    tag: str  # input, select, textarea, button
    name: str
    type: str = ""
    value: str = ""
    checked: bool = False
    options: list[tuple[str, bool]] = field(default_factory=list)
    multiple: bool = False


@dataclass
class Form:
    action: str
    fields: list[Field] = field(default_factory=list)
    enctype: str = ""


class FormParser(HTMLParser):
    """The post forms of a page, with their fields as a browser would send them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._option: list[Any] | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self._form = Form(action=a.get("action", ""), enctype=a.get("enctype", ""))
                self.forms.append(self._form)
            return
        if self._form is None or ("name" not in a and tag != "option") or "disabled" in a:
            return
        if tag == "input":
            kind = a.get("type", "").lower()
            if kind in ("submit", "image", "reset", "button"):
                return
            self._form.fields.append(
                Field("input", a["name"], kind, a.get("value", ""), "checked" in a)
            )
        elif tag == "button":
            if a.get("type", "submit").lower() == "submit":
                self._form.fields.append(Field("button", a["name"], "submit", a.get("value", "")))
        elif tag == "select":
            self._select = Field("select", a["name"], multiple="multiple" in a)
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "selected" in a, ""]
            self._select.options.append(("", False))  # replaced at the option's end
        elif tag == "textarea":
            self._textarea = Field("textarea", a["name"])
            self._form.fields.append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data
        if self._option is not None:
            self._option[2] += data
            self._close_option()

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._close_option()
            self._select = None
            self._option = None
        elif tag == "option":
            self._close_option()
            self._option = None
        elif tag == "textarea":
            self._textarea = None

    def _close_option(self) -> None:
        if self._select is not None and self._option is not None:
            value, selected, text = self._option
            value = text.strip() if value is None else value
            self._select.options[-1] = (value, selected)


class AlertText(HTMLParser):
    """The text of the page's error regions: `role="alert"`, Django's error lists and
    the error messages."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "source", "col", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.inside = 0  # depth at which the current error region opened, or 0
        self.text = ""
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in self.VOID:
            return
        self.depth += 1
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if not self.inside and (
            a.get("role") == "alert" or "errorlist" in classes or "error" in classes
        ):
            self.inside = self.depth

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self.VOID:
            return
        if self.inside and self.depth == self.inside:
            self.inside = 0
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.text += data
        if self._in_title:
            self.title += data


def _forms(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


# --- hostile values --------------------------------------------------------------------


def _plausible(f: Field) -> str:
    """A value someone filling the empty field in might type, so that a variant's
    hostile fields are what is wrong with the post, not the fields left empty."""
    if f.type == "date" or re.search(r"(date|_on)$", f.name):
        return "2026-03-04"
    if f.type == "datetime-local":
        return "2026-03-04T09:00"
    if f.type == "time":
        return "09:00"
    if f.type == "number" or "year" in f.name:
        return "2026" if "year" in f.name else "1"
    if f.type == "email":
        return "fz@example.com"
    if f.type == "tel" or "phone" in f.name:
        return "13800005678"
    if f.type == "password":
        return "Fz-mima-2026!"
    return "演示：小区三栋门口的路灯坏了两周，晚上出行不便。"


def _base(form: Form) -> dict[str, list[str]]:
    """What a browser sends for the form as the page gave it, empty fields filled in
    plausibly, every box ticked, a choice made and the first submit button pressed."""
    data: dict[str, list[str]] = {}
    radios: dict[str, str] = {}
    pressed = False
    for f in form.fields:
        if f.tag == "button":
            if not pressed:
                data.setdefault(f.name, []).append(f.value)
                pressed = True
        elif f.tag == "select":
            chosen = [v for v, s in f.options if s and v] or [v for v, _ in f.options if v][:1]
            data.setdefault(f.name, []).extend(chosen if f.multiple else chosen[:1])
        elif f.type == "checkbox":
            # Ticked: a consent left unticked would refuse every variant for itself.
            data.setdefault(f.name, []).append(f.value or "on")
        elif f.type == "radio":
            if f.checked or f.name not in radios:
                radios[f.name] = f.value
        elif f.type == "file":
            continue
        elif f.type == "hidden" or f.name == HONEYPOT:
            data.setdefault(f.name, []).append(f.value)
        else:
            data.setdefault(f.name, []).append(f.value or _plausible(f))
    return data | {name: [value] for name, value in radios.items()}


def _foreign(name: str, offered: set[str]) -> str:
    """The id of a record the field does not offer (another street's, where there is
    one), by what the field is called."""
    models: list[tuple[str, Any]] = [
        ("handling_unit", HandlingUnit),
        ("studio", Studio),
        ("representative", Representative),
        ("liaison", Liaison),
        ("case", Case),
        ("communit", OrgUnit),
        ("unit", OrgUnit),
        ("parent", OrgUnit),
    ]
    for part, model in models:
        if part in name:
            for pk in model.objects.order_by("-pk").values_list("pk", flat=True)[:50]:
                if str(pk) not in offered:
                    return str(pk)
    return NOTHING


@dataclass
class Variant:
    name: str
    # A field's new value: a string, None to leave it out, KEEP to send it as it was.
    change: Callable[[Field], Any]


KEEP = object()


def _text(value: str, textarea: str | None = None, phones: bool = True) -> Callable[[Field], Any]:
    def change(f: Field) -> Any:
        if f.tag == "textarea":
            return textarea if textarea is not None else value
        if f.tag == "input" and f.type in TEXT_TYPES and f.name != HONEYPOT:
            if not phones and (f.type == "tel" or "phone" in f.name):
                return KEEP  # refused for not being a number, the rest would go untried
            return value
        return KEEP

    return change


DATE_NAMES = re.compile(r"(date|_on|day)$")
NUMBER_NAMES = re.compile(r"(year|count|number|capacity)")


def _dates_and_numbers(date: str, number: str) -> Callable[[Field], Any]:
    """Dates and numbers made bad together: a form rarely has both, and one post per
    pair keeps the walk short."""

    def change(f: Field) -> Any:
        if f.tag != "input":
            return KEEP
        if f.type == "datetime-local":
            return f"{date}T09:00"
        if f.type == "time":
            return "25:61" if date[0].isdigit() else date
        if f.type in DATE_TYPES or (f.type in TEXT_TYPES and DATE_NAMES.search(f.name)):
            return date
        if f.type == "number" or (f.type in TEXT_TYPES and NUMBER_NAMES.search(f.name)):
            return number
        return KEEP

    return change


def _ids(foreign: bool) -> Callable[[Field], Any]:
    def change(f: Field) -> Any:
        if f.tag == "select" or (f.tag == "input" and f.type in ("radio", "checkbox")):
            offered = {v for v, _ in f.options} if f.options else {f.value}
            return _foreign(f.name, offered) if foreign else NOTHING
        return KEEP

    return change


def _is_version(f: Field) -> bool:
    return f.tag == "input" and f.type == "hidden" and f.name in ("version", "loaded_at")


def _version(value: str | None, loaded_at: str | None = None) -> Callable[[Field], Any]:
    """A case's or visit's `version`, or an edit page's `loaded_at` (minyi.core.stale),
    left out or from long ago."""

    def change(f: Field) -> Any:
        if not _is_version(f):
            return KEEP
        return loaded_at if f.name == "loaded_at" and loaded_at else value

    return change


def _hidden(value: str) -> Callable[[Field], Any]:
    """What a page carries to the post in hidden fields (a notification's id, who
    confirms, where to go next) other than the version, made another value: the
    server must not take it on trust."""

    def change(f: Field) -> Any:
        if f.tag != "input" or f.type != "hidden" or _is_version(f):
            return KEEP
        return KEEP if f.name in ("csrfmiddlewaretoken", HONEYPOT) else value

    return change


def _empty(f: Field) -> Any:
    if f.name in ("csrfmiddlewaretoken", HONEYPOT) or f.tag == "button":
        return KEEP
    if f.type in ("checkbox", "radio"):
        return None
    return ""


VARIANTS = [
    Variant("empty", _empty),
    Variant("long", _text("长" * 5000, textarea="长" * 100_000)),
    Variant("nul", _text("演示\x00")),
    Variant("markup", _text(MARKUP, phones=False)),
    Variant("impossible-date-negative-number", _dates_and_numbers("2026-02-30", "-1")),
    Variant("words-for-date-and-number", _dates_and_numbers("abc", "九")),
    Variant("far-date-huge-number", _dates_and_numbers("99999-01-01", "1e309")),
    Variant("id-of-nothing", _ids(foreign=False)),
    Variant("id-of-another-street", _ids(foreign=True)),
    Variant("hidden-of-nothing", _hidden(NOTHING)),
    Variant("hidden-words", _hidden("abc")),
    Variant("version-missing", _version(None)),
    Variant("version-stale", _version("0", loaded_at="2000-01-01T00:00:00+00:00")),
]


def _apply(form: Form, variant: Variant) -> dict[str, list[str]] | None:
    """The base data with the variant's changes, or None when it changes nothing."""
    data = _base(form)
    changed = False
    done: set[str] = set()
    for f in form.fields:
        if f.type == "file" or f.name in done:
            continue
        new = variant.change(f)
        if new is KEEP:
            continue
        done.add(f.name)
        if new is None:
            changed |= f.name in data
            data.pop(f.name, None)
        elif data.get(f.name) != [new]:
            data[f.name] = [str(new)]
            changed = True
    return data if changed else None


def _files(form: Form) -> Iterator[tuple[str, dict[str, Any]]]:
    names = {f.name for f in form.fields if f.type == "file"}
    if not names:
        return
    bogus = {n: SimpleUploadedFile("名单.xlsx", b"just text, not a workbook") for n in names}
    yield "file-bogus", bogus
    yield "file-empty", {n: SimpleUploadedFile("空.pdf", b"") for n in names}


# --- what must hold ---------------------------------------------------------------------


def _snapshot_sql() -> tuple[str, list[str]]:
    """One query: the row count of every table of ours, and the latest `updated_at` and
    sum of `version` where a table has them, so that a refused post which wrote
    anything, even an update, shows."""
    parts: list[str] = []
    labels: list[str] = []
    for model in apps.get_models():
        meta = model._meta
        if not meta.app_label or not model.__module__.startswith("minyi."):
            continue
        if meta.proxy or not meta.managed or meta.app_label in UNTRACKED_APPS:
            continue
        if meta.label in UNTRACKED:
            continue
        table = connection.ops.quote_name(meta.db_table)
        parts.append(f"(SELECT COUNT(*) FROM {table})")
        labels.append(f"{meta.label} rows")
        columns = {f.column for f in meta.concrete_fields}
        for column, aggregate in (("updated_at", "MAX"), ("version", "SUM")):
            if column in columns:
                parts.append(f"(SELECT {aggregate}({column}) FROM {table})")
                labels.append(f"{meta.label}.{column}")
    return "SELECT " + ", ".join(parts), labels


# Written on purpose whatever the answer: the audit trail records refusals too; API
# request logs and rate-limit counters are not data anyone typed.
UNTRACKED_APPS = {"audit"}
UNTRACKED: set[str] = set()


def _snapshot(sql: str) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return tuple(cursor.fetchone())


@contextmanager
def _exceptions() -> Iterator[list[BaseException]]:
    seen: list[BaseException] = []

    def record(sender: Any, request: Any = None, **kwargs: Any) -> None:
        import sys

        exc = sys.exc_info()[1]
        if exc is not None:
            seen.append(exc)

    got_request_exception.connect(record, dispatch_uid="form-fuzz")
    try:
        yield seen
    finally:
        got_request_exception.disconnect(dispatch_uid="form-fuzz")


def _has_chinese_error(response: Any) -> bool:
    parser = AlertText()
    parser.feed(response.content.decode(errors="replace"))
    if CJK.search(parser.text):
        return True
    # The error pages (400, 403, 404, 429) say it in their heading, not in an alert.
    return response.status_code != 200 and bool(CJK.search(parser.title))


def _local(url: str, base: str) -> str | None:
    target = urljoin(base, url)
    parts = urlsplit(target)
    return None if parts.netloc else target


@dataclass
class Walk:
    client: Client
    persona: str
    page: str
    sql: str
    labels: list[str]
    problems: list[str] = field(default_factory=list)

    def post(self, action: str, label: str, data: dict[str, Any]) -> bool:
        """Post and judge the answer; whether the post was saved."""
        where = f"{self.persona} on {self.page}: {label} → POST {action}"
        before = _snapshot(self.sql)
        with _exceptions() as raised:
            response = self.client.post(action, data)
        if raised:
            self.problems.append(f"{where}: raised {raised[0]!r}")
            return False
        status = response.status_code
        if status >= 500:
            self.problems.append(f"{where}: answered {status}")
            return False
        after = _snapshot(self.sql)
        body = response.content.decode(errors="replace")
        if label.endswith("markup") and MARKUP in body:
            self.problems.append(f"{where}: markup came back unescaped")
        view = resolve(urlsplit(action).path).view_name
        if 300 <= status < 400:
            # Saved, or sent back to a page that says why not (a message).
            refused = self.follow(response, action, label, where)
        else:
            refused = "html" in response.get("Content-Type", "") and _has_chinese_error(response)
            if view not in READS and not refused:
                self.problems.append(f"{where}: answered {status} without a Chinese error message")
            refused = True
        if refused and after != before:
            changed = [
                self.labels[i] for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b
            ]
            self.problems.append(f"{where}: refused ({status}) but wrote {changed}")
        return not refused

    def follow(self, response: Any, action: str, label: str, where: str) -> bool:
        """GET the page a post redirected to: it must work, show what was saved escaped,
        and say whether the post was refused (an error message)."""
        target = _local(response["Location"], action)
        if target is None:
            return False
        with _exceptions() as raised:
            shown = self.client.get(target)
        if raised or shown.status_code >= 500:
            self.problems.append(f"{where}: then GET {target} failed ({shown.status_code})")
            return False
        body = shown.content.decode(errors="replace")
        if label.endswith("markup") and MARKUP in body:
            self.problems.append(f"{where}: then GET {target} shows the markup unescaped")
        return any(CJK.search(m) for m in ERROR_MESSAGE.findall(body))


def _fuzz_form(walk: Walk, url: str, form: Form) -> None:
    action = _local(form.action or url, url)
    if action is None:
        return
    try:
        view = resolve(urlsplit(action).path).view_name
    except Resolver404:
        walk.problems.append(f"{walk.persona} on {walk.page}: form posts to nowhere: {action}")
        return
    if view == "logout":
        return
    tries: list[tuple[str, Variant | dict[str, Any]]] = [(v.name, v) for v in VARIANTS]
    tries += list(_files(form))
    for label, change in tries:
        data = _apply(form, change) if isinstance(change, Variant) else _base(form) | change
        if data is None:
            continue
        if walk.post(action, f"{view} {label}", data):
            # Saved: the record moved on (its version, its state). The next variant
            # starts from the page as it is now, or stops if the form is gone.
            again = _form_to(walk.client.get(url), action, url)
            if again is None:
                return
            form = again


def _form_to(page: Any, action: str, url: str) -> Form | None:
    if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
        return None
    for form in _forms(page.content.decode()):
        if _local(form.action or url, url) == action:
            return form
    return None


@contextmanager
def _rolled_back() -> Iterator[None]:
    """A persona's walk, undone afterwards; with it the shared cache, which may have
    kept what the walk wrote."""
    try:
        with transaction.atomic():
            yield
            transaction.set_rollback(True)
    finally:
        cache = caches["default"]
        if isinstance(cache, LocMemCache):
            cache.clear()
        from minyi.cases import forms

        forms._first_year_seen = (float("-inf"), 0)


@pytest.mark.django_db
@pytest.mark.parametrize("page", _pages())
def test_hostile_posts_are_refused_in_chinese_and_write_nothing(world: Any, page: str) -> None:
    name, kwargs = STATES[page] if page in STATES else (page, RULES[page].kwargs)
    rule = RULES[name]
    sql, labels = _snapshot_sql()
    problems: list[str] = []
    for persona in _readers(name, rule):
        with _rolled_back():
            client = Client(raise_request_exception=False)
            if username := PERSONAS[persona]:
                client.force_login(_user(username))
            url = reverse(name, kwargs=kwargs(world) if kwargs else None)
            response = client.get(url)
            assert response.status_code == 200, f"{persona} GET {url}: {response.status_code}"
            if "html" not in response.get("Content-Type", ""):
                continue
            walk = Walk(client, persona, page, sql, labels, problems)
            for form in _forms(response.content.decode()):
                _fuzz_form(walk, url, form)
    assert not problems, "\n".join(problems)
