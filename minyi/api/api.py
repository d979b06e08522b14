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

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import escape
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from minyi.api.common import ApiError, error
from minyi.api.models import ApiToken, hash_secret
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


api = NinjaAPI(
    title="民意直通 开放接口",
    version="1.0.0",
    description="党代表工作室社情民意的开放接口。认证：`Authorization: Bearer <令牌>`。",
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
    for item in exc.errors:
        loc = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")]
        name = ".".join(loc[1:] if loc and loc[0] in ("payload", "filters") else loc) or "请求"
        if item.get("type") == "string_too_long":
            # Free text over its cap (minyi.core.text_limits): say which and how long.
            limit = item.get("ctx", {}).get("max_length")
            fields.setdefault(name, []).append(too_long("", limit))
            message = too_long(f"字段 {name} ", limit)
        else:
            fields.setdefault(name, []).append("格式不正确或缺少必填项。")
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
        fields = {k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()}
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
    """A plain page listing the endpoints (no third-party assets)."""
    schema = api.get_openapi_schema()
    rows = []
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            summary = op.get("summary", "")
            description = op.get("description", "")
            rows.append(
                f"<tr><td><code>{escape(method.upper())}</code></td>"
                f"<td><code>{escape(path)}</code></td>"
                f"<td>{escape(summary)}<br><small>{escape(description)}</small></td></tr>"
            )
    html = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(schema['info']['title'])}</title></head><body>"
        f"<h1>{escape(schema['info']['title'])}</h1>"
        f"<p>{escape(schema['info'].get('description', ''))}</p>"
        '<p>机器可读的说明：<a href="/api/v1/openapi.json">OpenAPI 3 文档</a>。</p>'
        "<table><thead><tr><th>方法</th><th>路径</th><th>说明</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></body></html>"
    )
    return HttpResponse(html)
