"""Adding and downloading a case's attachments."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from minyi.cases import access, forms, services
from minyi.cases.attachments import can_download, case_attach
from minyi.cases.models import Case
from minyi.cases.states import Action
from minyi.core.sealed_files import SealBroken, open_plain


def _case(request: HttpRequest, pk: int) -> Case:
    return get_object_or_404(
        Case.objects.for_user(request.user).select_related("studio__unit"), pk=pk
    )


@require_POST
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(request, pk)
    # Whoever may write on the case's record may add material to it.
    if Action.NOTE not in access.permitted_actions(request.user, case):
        raise Http404
    form = forms.AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(case.get_absolute_url())
    try:
        with transaction.atomic():
            for upload in form.cleaned_data["files"]:
                case_attach(case=case, actor=request.user, upload=upload)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已添加 {len(form.cleaned_data['files'])} 个附件。")
    return redirect(case.get_absolute_url())


def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponseBase:
    case = _case(request, pk)
    if not can_download(request.user, case):
        raise Http404
    attachment = get_object_or_404(case.attachments, pk=attachment_pk)
    try:
        # Decrypted on the fly (minyi.core.sealed_files), authenticated whole first.
        handle, size = open_plain(attachment.file)
    except FileNotFoundError as exc:
        raise Http404 from exc
    except SealBroken as exc:
        messages.error(request, f"附件“{attachment.original_name}”无法打开：{exc.message}")
        return redirect(case.get_absolute_url())
    # What a reporter handed in is their personal data like their phone: a download is a
    # full view of it and recorded as one (docs/personal-data.md).
    services.record_personal_data_view(
        case=case, viewer=request.user, purpose=f"下载附件：{attachment.original_name}"[:100]
    )
    # Always a download, never rendered inline: a crafted file cannot run in our origin.
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["Content-Length"] = size
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
