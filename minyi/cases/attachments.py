"""Attachments: the type is decided by the file's first bytes, not by its name or the
browser's word; the size is capped; the stored name is generated."""

from __future__ import annotations

import contextvars
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from minyi.cases.models import Case, CaseAttachment

# (magic prefix, offset, content type, extension)
SIGNATURES = [
    (b"\xff\xd8\xff", 0, "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "png"),
    (b"%PDF-", 0, "application/pdf", "pdf"),
    (b"WEBP", 8, "image/webp", "webp"),
]
ALLOWED_LABEL = "JPEG、PNG、WEBP 图片或 PDF 文件"


def sniff_type(head: bytes) -> tuple[str, str] | None:
    for magic, offset, content_type, extension in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            if content_type == "image/webp" and not head.startswith(b"RIFF"):
                continue
            return content_type, extension
    return None


def check_upload(upload: UploadedFile) -> tuple[str, str]:
    limit = settings.MAX_ATTACHMENT_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            f"附件“{upload.name}”超过 {limit // (1024 * 1024)} MB，请压缩后再上传。",
            code="too_large",
        )
    if upload.size == 0:
        raise ValidationError(f"附件“{upload.name}”是空文件。", code="empty")
    head = upload.read(16)
    upload.seek(0)
    found = sniff_type(head)
    if found is None:
        raise ValidationError(
            f"附件“{upload.name}”的类型不受支持，只能上传{ALLOWED_LABEL}。", code="bad_type"
        )
    return found


# The files saved under discarded_unless_committed (storage, name), or None outside it.
_saved_files: contextvars.ContextVar[list[tuple[Storage, str]] | None] = contextvars.ContextVar(
    "minyi_saved_attachment_files", default=None
)


@contextmanager
def discarded_unless_committed() -> Iterator[None]:
    """Delete the attachment files saved inside if the enclosed writes fail. A file is
    in storage before its row commits; when the commit then fails (a choice deleted
    meanwhile, minyi.core.integrity) the rows are gone and the file, a resident's photo
    or scan, would stay with nothing pointing at it. Use it around the outermost atomic
    block, as references_checked."""
    saved: list[tuple[Storage, str]] = []
    token = _saved_files.set(saved)
    try:
        yield
    except BaseException:
        for storage, name in saved:
            storage.delete(name)
        raise
    finally:
        _saved_files.reset(token)


@transaction.atomic
def case_attach(*, case: Case, actor: Any, upload: UploadedFile) -> CaseAttachment:
    content_type, extension = check_upload(upload)
    token = f"{secrets.token_hex(16)}.{extension}"
    attachment = CaseAttachment(
        case=case,
        token=token,
        original_name=(upload.name or "附件")[:200],
        content_type=content_type,
        size=upload.size or 0,
        uploaded_by=actor,
    )
    attachment.file.save(token, upload, save=False)
    saved = _saved_files.get()
    if saved is not None:
        assert attachment.file.name, "a saved file has its name"
        saved.append((attachment.file.storage, attachment.file.name))
    attachment.save()
    return attachment


def can_download(user: Any, case: Case) -> bool:
    """Attachments can identify the reporter: the same rule as the reporter's details."""
    from minyi.cases.access import can_see_reporter

    return can_see_reporter(user, case)
