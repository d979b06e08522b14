"""A form sent once: the one-time submission key a page's form carries.

A double click, a browser's resend or a retry after a slow answer sends the same form
twice. The blank form gets a random key (a hidden field); a refused post shown again
keeps it; what the post creates stores it under a unique constraint, so the second
post with the same key creates nothing, whether it comes after the first committed or
at the same moment (the constraint decides, and the loser's transaction, its number
included, rolls back). The page then answers with what the first post made.

The API has its own `Idempotency-Key` (minyi.api.models.IdempotencyKey): a key the
caller chooses, per token, with the request's hash and the stored answer to replay. A
page's key is the server's own random one and the record it made is the answer, so it
is kept on that record instead (docs/decisions.md)."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.db import models
from django.utils.crypto import salted_hmac

FIELD = "submission_key"

# A post without a valid key: a page opened before the key existed (a tab kept open over
# a deploy) or a hand-made post. Nothing is saved; the form comes back with a fresh key.
STALE = "页面已过期，请核对后重新提交。"

# The key was used for a record the poster may not see (another account, another
# studio): said as if the page had expired, so that nothing about that record shows.
REUSED = STALE


def new_key() -> uuid.UUID:
    return uuid.uuid4()


def derived_key(*parts: str) -> uuid.UUID:
    """A key that every request computing it from the same `parts` gets, and nobody
    without the SECRET_KEY can compute: for a record whose key was never stored (a
    draft from before the keys), so that two posts reading it at once share one key."""
    digest = salted_hmac("minyi.core.once.derived_key", "\x00".join(parts), algorithm="sha256")
    return uuid.UUID(bytes=digest.digest()[:16], version=4)


def parse_key(value: Any) -> uuid.UUID | None:
    """The key a post carries, or None when it has none or not a well-formed one."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value or ""))
    except ValueError:
        return None


def made_with[M: models.Model](model: type[M], key: uuid.UUID | None, *fields: str) -> M | None:
    """The record a page's one-time key made, if any, with only `fields` read: what a form
    sent twice gets instead of a second record. Not scoped: each caller shows it only to
    whoever sent the form (its own check: the same account, studio or plan)."""
    if key is None:
        return None
    return model._default_manager.filter(**{FIELD: key}).only(*fields).first()


class OnceOnlyFormMixin:
    """Give a Django form the hidden one-time key: `new_key()` on a blank form, the posted
    one on a bound form (kept when it is shown again with errors). A bound form without
    a valid key is invalid with STALE and renders a fresh key with the typed values.
    Call `init_once_only()` at the end of the form's __init__."""

    def init_once_only(self) -> None:
        form = cast(forms.BaseForm, self)
        # A CharField, parsed by clean_submission_key: a UUIDField's own error would be
        # the hidden field's, listed under a label the page does not show.
        form.fields[FIELD] = forms.CharField(required=False, widget=forms.HiddenInput)
        if not form.is_bound:
            form.initial[FIELD] = new_key()

    @property
    def posted_key(self) -> uuid.UUID | None:
        form = cast(forms.BaseForm, self)
        return parse_key(form.data.get(FIELD)) if form.is_bound else None

    def clean_submission_key(self) -> uuid.UUID | None:
        key = self.posted_key
        if key is None:
            self.refresh_key()
            cast(forms.BaseForm, self).add_error(None, STALE)
        return key

    def refresh_key(self) -> None:
        """Show the form again with a fresh key (the posted one is missing, malformed or
        spent on a record this post does not get to see)."""
        form = cast(forms.BaseForm, self)
        # A QueryDict's copy is mutable (a post's is not); a dict's copy is a dict.
        data: Any = form.data.copy()  # type: ignore[attr-defined]
        data[FIELD] = str(new_key())
        form.data = data
