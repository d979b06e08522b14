"""What every API module shares: the error shape, the token's account, and lists that
reuse the screens' own filter forms and querysets behind a stable cursor."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import TextChoices
from django.http import HttpRequest, JsonResponse
from ninja import Schema
from pydantic import Field

from minyi.core.text_limits import ACCOUNT_MAX, DOCUMENT_MAX, NOTE_MAX, too_long

MAX_LIMIT = 100

# Phones are stored as E.164 (+8613800001234) and shown on the pages in the national
# form; the API answers as the pages do (minyi.core.phones.display_phone), as an
# integrator's own system (a 12345 platform) keeps them and as they were sent in.
PHONE_TEXT = (
    "电话，与页面上的写法相同：手机 11 位，固定电话带区号（如 0755-12345678）；未填为空字符串"
)

# Free text in request bodies, capped as on the pages (minyi.core.text_limits): the
# schema refuses it before any form is built, and the OpenAPI document shows the cap
# (maxLength) to whoever writes an integration.
NoteText = Annotated[str, Field(max_length=NOTE_MAX)]
AccountText = Annotated[str, Field(max_length=ACCOUNT_MAX)]
DocumentText = Annotated[str, Field(max_length=DOCUMENT_MAX)]


def choices_text(what: str, kind: type[TextChoices], blank: str = "") -> str:
    """A field's description listing its values with their labels, from the choices
    themselves so the document cannot drift from them; `blank`: what "" means."""
    values = "、".join(f"{value} {label}" for value, label in kind.choices if value)
    return f"{what}：{values}" + (f"；{blank}为空字符串" if blank else "")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def error(status: int, code: str, message: str, fields: dict | None = None) -> JsonResponse:
    return JsonResponse(
        {"code": code, "message": message, "fields": fields or {}},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


class ErrorOut(Schema):
    code: str = Field(
        description="错误代码（英文，供程序判断），如 invalid、not_found、case_changed"
    )
    message: str = Field(description="中文错误说明，可直接展示给用户")
    fields: dict[str, Any] = Field({}, description="按字段列出的问题：字段名 → 中文说明列表")


# Every authenticated operation may answer these; 429 is the per-token rate limit.
ERRORS: dict[int, Any] = {401: ErrorOut, 422: ErrorOut, 429: ErrorOut}
ONE = {**ERRORS, 404: ErrorOut}
STEP = {**ONE, 400: ErrorOut, 409: ErrorOut}


def account(request: HttpRequest) -> Any:
    """The account the token acts as; every query is scoped by it."""
    return request.auth.user  # type: ignore[attr-defined]


# The request bodies name a chosen object by its id (`studio_id`, `representative_ids`),
# the page's form by the object (`studio`): an error is reported under the body's name,
# the one the caller sent.
BODY_NAMES = {
    "studio": "studio_id",
    "representative": "representative_id",
    "representatives": "representative_ids",
    "about_unit": "about_unit_id",
    "community": "community_id",
    "handling_unit": "handling_unit_id",
    "case": "case_id",
}


def refusal_fields(exc: ValidationError) -> dict[str, list[str]]:
    """A service's refusal by field (a ValidationError with a dict), under the names the
    request body uses."""
    return {
        BODY_NAMES.get(name, name): [m for e in errors for m in e.messages]
        for name, errors in exc.error_dict.items()
    }


def form_error(form: forms.BaseForm, *, body: bool = True) -> ApiError:
    """422 with the form's errors by field. `body`: the form was filled from a request
    body (whose fields are named as in BODY_NAMES), not from a list's query filters
    (which are named as the form's fields are)."""
    fields = {
        (BODY_NAMES.get(name, name) if body else name): [
            message for error in errors for message in _messages(form, name, error)
        ]
        for name, errors in form.errors.as_data().items()
    }
    first = next(iter(fields.values()))[0] if fields else "输入有误。"
    return ApiError(422, "invalid", first, fields)


# A page shows its choices in a select; an integration only gets the message, so a
# value that is not one of a short fixed list is answered with the list.
LISTED_CHOICES = 30


def _messages(form: forms.BaseForm, name: str, error: ValidationError) -> list[str]:
    field = form.fields.get(name)
    if error.code == "max_length" and field is not None and error.params:
        # The page shows this beside the field; an integration gets it without one.
        limit, length = error.params["limit_value"], error.params["show_value"]
        return [too_long(f"“{field.label or name}”（{name}）", limit, length)]
    values = _choice_values(form.fields.get(name)) if error.code == "invalid_choice" else []
    suffix = f"可选值：{'、'.join(values)}。" if 0 < len(values) <= LISTED_CHOICES else ""
    return [f"{message}{suffix}" for message in error.messages]


def _choice_values(field: forms.Field | None) -> list[str]:
    # A model choice is an id: the API has lists of those, and they are not few.
    if not isinstance(field, forms.ChoiceField) or isinstance(field, forms.ModelChoiceField):
        return []
    values: list[str] = []
    # Normalised to (value, label) pairs when the field was built; the stubs allow more.
    for value, label in cast(list[tuple[Any, Any]], field.choices):
        options = label if isinstance(label, list | tuple) else [(value, label)]
        values += [str(v) for v, _ in options if v not in ("", None)]
    return values


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = raw.partition(":")
        pk = int(value)
        if prefix != "id" or not 1 <= pk < 2**63:
            raise ValueError
        return pk
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ApiError(
            422, "invalid", "分页游标无效，请使用上一页返回的 next_cursor。", {"cursor": ["无效"]}
        ) from exc


def reject_unknown_params(request: HttpRequest, known: set[str]) -> None:
    """A misspelt filter must not silently return everything."""
    unknown = sorted(set(request.GET) - known)
    if unknown:
        raise ApiError(
            422,
            "invalid",
            f"不支持的查询参数：{unknown[0]}。",
            {name or "（空）": ["不支持"] for name in unknown},
        )
    # Every filter takes one value: `?q=a&q=b` would otherwise be answered for one of
    # them, silently dropping the other.
    repeated = sorted(name for name in request.GET if len(request.GET.getlist(name)) > 1)
    if repeated:
        raise ApiError(
            422,
            "invalid",
            f"查询参数 {repeated[0]} 只能出现一次。",
            {name: ["只能出现一次"] for name in repeated},
        )


class PageParams(Schema):
    cursor: str | None = Field(None, description="分页游标：上一页应答中的 next_cursor；第一页不传")
    limit: int = Field(20, description="每页条数，1—100")


def screen_list(
    request: HttpRequest,
    view_class: type,
    params: Schema,
    *,
    adjust: Any = None,
) -> tuple[list[Any], str | None]:
    """One page of a screen's list: the screen's own queryset (`for_user`) and filter
    form with its `filter()`, so the API filters exactly as the page does. Ordered by
    id, newest first, with a cursor on the id: rows inserted meanwhile land before the
    first page and never shift or repeat later pages."""
    reject_unknown_params(request, set(type(params).model_fields))
    raw = params.dict()
    limit, cursor = raw.pop("limit"), raw.pop("cursor")
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(422, "invalid", "每页条数应在 1 到 100 之间。", {"limit": ["1—100"]})
    for name, value in raw.items():
        if isinstance(value, str) and "\x00" in value:
            raise ApiError(422, "invalid", "参数含有无效字符。", {name: ["含有无效字符。"]})
    view = view_class()
    view.request = request
    data = {k: ("on" if v is True else v) for k, v in raw.items() if v not in (None, False, "")}
    form = view.filter_form(data, user=request.user)
    if adjust is not None:
        adjust(form)
    unknown = set(data) - set(form.fields)
    if unknown:
        # A filter the screen does not offer this role (e.g. 本部门正在办理 for a unit).
        name = sorted(unknown)[0]
        raise ApiError(422, "invalid", "该筛选条件不适用于此令牌的角色。", {name: ["不适用"]})
    if not form.is_valid():
        raise form_error(form, body=False)
    qs = view.filter(view.base_queryset(), form.cleaned_data)
    if cursor:
        qs = qs.filter(pk__lt=decode_cursor(cursor))
    rows = list(view.row_columns(qs.order_by("-pk")[: limit + 1]))
    more = len(rows) > limit
    rows = view.decorate(rows[:limit])
    return rows, (encode_cursor(rows[-1].pk) if more else None)
