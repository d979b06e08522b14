"""The open API (issue 6): REST over JSON under /api/v1/, scoped exactly like the screens.

A token acts as its account (`request.user` is set to it), so every read goes through
`X.objects.for_user(account)` and the screens' own filter forms, and every change
through the case services and `permitted_actions`. Errors are `{"code", "message",
"fields"}`. The endpoints live in `minyi.api.cases`, `minyi.api.resources`,
`minyi.api.events` (writing events), `minyi.api.visits` (household visits) and
`minyi.api.duties` (annual plans, bi-monthly reports and the duty record, read-only).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationErrorContext
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.security import HttpBearer

from minyi.api.common import ApiError, error, refusal_fields
from minyi.api.docs import docs_page
from minyi.api.models import ApiToken, hash_secret
from minyi.api.schema_texts import SCHEMA_TEXTS
from minyi.cases.services import CaseChanged
from minyi.cases.states import TransitionNotAllowed
from minyi.core.integrity import BUSY_MESSAGE, ReferenceGone, is_foreign_key_violation, is_transient
from minyi.core.text_limits import too_long

logger = logging.getLogger(__name__)


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = (
            ApiToken.objects.select_related("user")
            .filter(secret_hash=hash_secret(token), revoked_at__isnull=True)
            .first()
        )
        if found is None or not found.user.is_active:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        request.api_token = found  # type: ignore[attr-defined]
        # The screens' views and forms read `request.user`: the token's account.
        request.user = found.user
        return found


# The document's introduction (CommonMark, rendered by /api/v1/docs): what every
# operation shares, so that each operation's own description need not repeat it.
INTRO = """党代表工作室社情民意系统的开放接口，供其他政务系统对接：读取社情民意、工作室、党代表、\
活动、群众预约、入户走访、年度计划、双月报告和履职档案，登记社情民意并办理各环节，\
安排活动，登记入户走访。

- 认证：每个请求都带请求头 `Authorization: Bearer <令牌>`。令牌由组织部门在“接口令牌”\
页面为某一角色和单位（组织部门或承办单位）签发，只显示一次。
- 权限：令牌按其角色和单位行事，能查看、能办理的与该角色在页面上完全相同。下文“可调用”即指\
令牌的角色。不在令牌范围内的记录与不存在的记录一样，答 404。
- 格式：请求和应答均为 UTF-8 编码的 JSON；日期为 `YYYY-MM-DD`，时间为带时区的 ISO 8601。\
各字段的含义和取值见 OpenAPI 文档。
- 分页：列表按 id 从新到旧排列，每页 `limit` 条（1—100，默认 20）；把应答中的 `next_cursor` \
作为下一页的 `cursor` 参数传回，为 null 即已是最后一页。\
翻页期间新增的记录不会使后面的页重复或遗漏。查询参数拼错或重复出现答 422，不会被忽略。
- 错误：应答为 `{"code": …, "message": …, "fields": {…}}`，`message` 是中文说明，`fields` 按字段\
列出问题（字段名与请求体中的相同，如 `studio_id`；列表的筛选条件用查询参数名）。\
401 `unauthorized`：令牌无效或已吊销；404 `not_found`：不存在或无权查看，\
或没有这个接口；405 `method_not_allowed`：该接口不支持此请求方法（`Allow` 列出可用的）；\
409：当前状态不允许（`transition_not_allowed`，附原因）、记录已被他人修改（`case_changed`、\
`event_changed`、`visit_changed`）或所引用的记录刚被删除（`reference_gone`），均未保存；\
422 `invalid`：输入有误；429 `rate_limited`：超出调用频率，按 `Retry-After` 的秒数后重试；\
503 `busy`：系统繁忙，稍后重试。\
任何错误都不会保存半条记录。
- 并发：社情民意和入户走访带整数 `version`，活动带字符串 `version`；办理时传回读取到的值，\
记录在此之后被他人修改的，答 409，不覆盖他人的修改。
- 办理环节：社情民意的每个环节是一个 `POST /api/v1/cases/{case_id}/…` 操作，规则与详情页上的\
按钮相同。详情中的 `permitted_actions` 列出令牌现在能办理的动作\
（如 `send_to_street` 即 `…/send`）。请求体中的 `version` 可省略（按当前版本办理）。\
该角色根本不能办理的环节答 404；当前状态不允许的答 409 \
`transition_not_allowed` 并说明原因；成功时返回办理后的详情。
- 幂等：登记社情民意时带 `Idempotency-Key`，网络中断或 503 后用同一个键重试，不会重复登记。
"""


# What each status means here, for the document's responses (django-ninja writes the
# English reason phrase).
RESPONSES = {
    200: "成功",
    201: "已创建",
    400: "请求体不是有效的 JSON",
    401: "令牌无效或已吊销",
    404: "不存在或无权查看",
    409: "当前状态不允许，或记录已被他人修改，未保存",
    422: "输入有误，见 fields",
    429: "调用过于频繁，按 Retry-After 的秒数后重试",
}


class MinyiAPI(NinjaAPI):
    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext]
    ) -> NinjaValidationError:
        error = super().validation_error_from_error_contexts(error_contexts)
        # The query parameters the operation takes, for _schema_error: a parameter the
        # operation does not know (`?start=` for `?date=`) was reported only as the one
        # it expects missing, which does not tell the caller what they got wrong.
        error.query_names = [  # type: ignore[attr-defined]
            name
            for context in error_contexts
            if context.model.__ninja_param_source__ == "query"
            for name in getattr(context.model, "__ninja_flatten_map__", None) or {}
        ]
        return error

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    response["description"] = RESPONSES.get(int(status), response["description"])
        for name, component in schema.get("components", {}).get("schemas", {}).items():
            if name in SCHEMA_TEXTS:
                component["description"] = SCHEMA_TEXTS[name]
        return schema


api = MinyiAPI(
    title="民意直通 开放接口",
    version="1.0.0",
    description=INTRO,
    urls_namespace="api",
    auth=BearerToken(),
    docs_url=None,
)


# --- errors --------------------------------------------------------------------------


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error(401, "unauthorized", "未提供有效的接口令牌，或令牌已被吊销。")


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error(exc.status, exc.code, exc.message, exc.fields)


@api.exception_handler(NinjaValidationError)
def _schema_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    message = "请求内容格式不正确，请按接口文档填写。"
    missing: list[str] = []
    for item in exc.errors:
        loc = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")]
        name = ".".join(loc[1:] if loc and loc[0] in ("payload", "filters") else loc) or "请求"
        if item.get("type") == "missing" and item.get("loc", ())[:1] == ("query",):
            missing.append(name)
            fields.setdefault(name, []).append("缺少此查询参数。")
        elif item.get("type") == "string_too_long":
            # Free text over its cap (minyi.core.text_limits): say which and how long.
            limit = item.get("ctx", {}).get("max_length")
            fields.setdefault(name, []).append(too_long("", limit))
            message = too_long(f"字段 {name} ", limit)
        else:
            fields.setdefault(name, []).append("格式不正确或缺少必填项。")
    known = getattr(exc, "query_names", [])
    unknown = sorted(set(request.GET) - set(known)) if known else []
    for name in unknown:
        fields[name or "（空）"] = ["不支持"]
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(f"不支持的查询参数：{'、'.join(unknown)}")
        if missing:
            parts.append(f"缺少查询参数：{'、'.join(missing)}")
        message = f"{'；'.join(parts)}。本接口的查询参数为 {'、'.join(known)}，见接口文档。"
    return error(422, "invalid", message, fields)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    status = exc.status_code
    if status == 400:
        return error(400, "bad_request", "请求无法解析，请发送有效的 JSON。")
    return error(status, "error", str(exc.message))


@api.exception_handler(DjangoValidationError)
def _validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        fields = refusal_fields(exc)
        message = next(iter(fields.values()))[0] if fields else "输入有误。"
        return error(422, "invalid", message, fields)
    return error(422, "invalid", "；".join(exc.messages) or "输入有误。")


@api.exception_handler(TransitionNotAllowed)
def _transition(request: HttpRequest, exc: TransitionNotAllowed) -> HttpResponse:
    return error(409, "transition_not_allowed", str(exc))


@api.exception_handler(CaseChanged)
def _changed(request: HttpRequest, exc: CaseChanged) -> HttpResponse:
    return error(409, "case_changed", CaseChanged.message)


@api.exception_handler(ReferenceGone)
def _gone(request: HttpRequest, exc: ReferenceGone) -> HttpResponse:
    return error(409, "reference_gone", str(exc.message))


API_GONE_MESSAGE = "请求所引用的记录刚被他人删除或停用，本次请求没有保存，请重新查询后再提交。"


@api.exception_handler(IntegrityError)
def _integrity(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    # Endpoints that name the row in their message catch it themselves (ReferenceGone).
    if is_foreign_key_violation(exc):
        return error(409, "reference_gone", API_GONE_MESSAGE)
    return _server_error(request, exc)


@api.exception_handler(OperationalError)
def _operational(request: HttpRequest, exc: OperationalError) -> HttpResponse:
    # A deadlock or a lock wait given up: the transaction rolled back; an integration
    # retries on 503 with its idempotency key, as after any lost answer.
    if is_transient(exc):
        logger.warning("transient database error on %s %s: %s", request.method, request.path, exc)
        response = error(503, "busy", BUSY_MESSAGE)
        response["Retry-After"] = "5"
        return response
    return _server_error(request, exc)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error(404, "not_found", "没有找到该记录，或您无权查看。")


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    return error(500, "server_error", "服务器内部错误，已记录，请稍后再试或联系管理员。")


# --- endpoints -----------------------------------------------------------------------

# Imported here: they import the error types above. `events` adds the event writes to
# the resources' router, so it is imported for that alone.
from minyi.api import cases, duties, events, resources, visits  # noqa: E402, F401

api.add_router("", cases.router)
api.add_router("", resources.router)
api.add_router("", visits.router)
api.add_router("", duties.router)


@api.get("/docs", auth=None, include_in_schema=False)
def docs(request: HttpRequest) -> HttpResponse:
    """The document as a page (minyi.api.docs): no third-party assets."""
    return docs_page(request, api.get_openapi_schema())
