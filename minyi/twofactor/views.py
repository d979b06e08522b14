"""Enrolment (QR code), the code step after the password, and the per-role policy page."""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import segno
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from minyi import audit
from minyi.audit.models import Action, Result
from minyi.core.requests import AuthenticatedHttpRequest
from minyi.people.models import Role
from minyi.twofactor.forms import PolicyForm, TokenForm
from minyi.twofactor.policy import pending_step, required_roles, set_required_roles

ISSUER = "民意 党代表工作室"


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


def _qr_data_uri(device: TOTPDevice) -> str:
    # An <img> with a data: URI: allowed by the CSP (img-src data:), no inline markup.
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


@require_http_methods(["GET", "POST"])
def enrol(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if user_has_device(user, confirmed=True):
        messages.info(request, "您已绑定动态口令。")
        return redirect(_next(request))
    # One pending (unconfirmed) device per account, kept across reloads so that the QR code
    # the person already scanned stays valid.
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="手机身份验证器", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                otp_login(request, device)
                audit.record(Action.OTP_ENROL, user, request=request)
            messages.success(request, "动态口令已绑定，以后登录时请输入验证器上的 6 位数字。")
            return redirect(_next(request))
        form.add_error("token", "动态口令不正确或已过期，请输入验证器上当前显示的数字。")
        audit.record(Action.OTP_FAILED, user, result=Result.FAILURE, request=request)
    context = {
        "form": form,
        "qr": _qr_data_uri(device),
        "secret": b32encode(device.bin_key).decode(),
        "required": pending_step(user) == "enrol",
        "next": _next(request),
    }
    return render(request, "twofactor/enrol.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if pending_step(user) != "verify":
        return redirect(_next(request))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            audit.record(Action.LOGIN, user, request=request, detail="动态口令验证通过")
            return redirect(_next(request))
        form.add_error(
            "token",
            "动态口令不正确或已过期。连续输错后须等待一段时间才能再试；"
            "手机丢失请联系系统管理员重置。",
        )
        audit.record(Action.OTP_FAILED, user, result=Result.FAILURE, request=request)
    context = {"form": form, "next": _next(request)}
    return render(request, "twofactor/verify.html", context, status=400 if form.errors else 200)


def _can_set_policy(user: Any) -> bool:
    return user.is_active and user.role == Role.CITY_OFFICIAL


@require_http_methods(["GET", "POST"])
def policy(request: HttpRequest) -> HttpResponse:
    if not _can_set_policy(request.user):
        raise Http404
    form = PolicyForm(request.POST or None, initial={"roles": required_roles()})
    if request.method == "POST" and form.is_valid():
        set_required_roles(roles=form.cleaned_data["roles"], actor=request.user)
        messages.success(request, "双因素认证要求已保存。")
        return redirect("twofactor:policy")
    return render(request, "twofactor/policy.html", {"form": form, "title": "双因素认证要求"})
