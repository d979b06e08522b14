"""Personal data at rest: encrypted columns, and keyed digests to look them up.

Phones, addresses, ID-like numbers, a reporter's name and employer and the name of
whoever books an appointment are stored as Fernet tokens (AES-128-CBC with an
HMAC-SHA256 tag, from `cryptography`), under a key from the environment
(MINYI_FIELD_KEY; old keys in MINYI_FIELD_KEY_FALLBACKS still decrypt, so a key can be
rotated and `manage.py reencrypt_personal_data` re-encrypts every row under the new one).
A raw SQL read or a database backup shows tokens, never the values.

An encrypted column cannot be filtered (the same value encrypts differently every time),
so every lookup the code does goes through a digest column: HMAC-SHA256 under a separate
key (MINYI_LOOKUP_KEY) of the normalised value, e.g. `Case.reporter_phone_digest`.
Find a reporter by phone with::

    Case.objects.filter(reporter_phone_digest=phone_digest("138 0000 5678"))

Filtering an encrypted field itself raises FieldError instead of silently matching
nothing. Why our own field and not django-fernet-encrypted-fields: docs/decisions.md.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured, ValidationError
from django.core.signals import setting_changed
from django.db import models
from django.db.models.lookups import Exact, IsNull

from minyi.core.fernet_open import Opener
from minyi.core.names import mask_name
from minyi.core.phones import parse_phone

TOKEN_PREFIX = "gAAAAA"  # every Fernet token starts so (version byte 0x80 + timestamp)


class DecryptionError(RuntimeError):
    """A stored value that none of the configured keys opens: a wrong or missing key."""


@cache
def _fernet() -> MultiFernet:
    keys = [settings.MINYI_FIELD_KEY, *settings.MINYI_FIELD_KEY_FALLBACKS]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "MINYI_FIELD_KEY (and each of MINYI_FIELD_KEY_FALLBACKS) must be a Fernet key: "
            "python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from exc


@cache
def _opener() -> Opener:
    """The same keys as _fernet's, for opening tokens at a third of Fernet's cost
    (minyi.core.fernet_open); _fernet() checked them."""
    _fernet()
    return Opener([settings.MINYI_FIELD_KEY, *settings.MINYI_FIELD_KEY_FALLBACKS])


def _reset(**kwargs: Any) -> None:
    if kwargs.get("setting") in {"MINYI_FIELD_KEY", "MINYI_FIELD_KEY_FALLBACKS"}:
        _fernet.cache_clear()
        _opener.cache_clear()


setting_changed.connect(_reset)


def encrypt(value: str) -> str:
    """The token stored for `value` ("" stays "": emptiness is not a secret)."""
    if not value:
        return value
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    if not token:
        return token
    try:
        return _opener().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        # Fail closed: showing a token, or passing plaintext off as decrypted, would hide
        # a misconfigured key until it had done damage.
        raise DecryptionError(
            "A personal-data column holds a value no configured key decrypts: check "
            "MINYI_FIELD_KEY / MINYI_FIELD_KEY_FALLBACKS."
        ) from exc


def reencrypt(token: str) -> str:
    """The same value under the current key (MultiFernet.rotate)."""
    if not token:
        return token
    return _fernet().rotate(token.encode("ascii")).decode("ascii")


def is_token(value: str) -> bool:
    return bool(value) and value.startswith(TOKEN_PREFIX)


def digest(value: str) -> str:
    """HMAC-SHA256 of a value that is already normalised; "" for an empty value."""
    if not value:
        return ""
    key = settings.MINYI_LOOKUP_KEY.encode("utf-8")
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def phone_digest(phone: str) -> str:
    """The lookup digest of a phone number as anyone may type it ("138 0000 5678",
    "+8613800005678", "0755-12345678"): normalised to E.164 first, so every spelling
    of one number finds the same rows. "" for an empty or unparseable number."""
    try:
        return digest(parse_phone(phone))
    except ValidationError:
        return ""


class EncryptedExact(Exact):
    """Only `field=""` is allowed: a token differs on every encryption, so comparing
    with one could never match. Anything else is a programming error, said loudly."""

    def get_prep_lookup(self) -> Any:
        if self.rhs not in ("", None):
            raise FieldError(
                f"{self.lhs.target.name} is encrypted and cannot be filtered by value; "
                "filter its digest column (minyi.core.crypto)."
            )
        return super().get_prep_lookup()


class EncryptedCharField(models.CharField):
    """A CharField whose value is stored encrypted in a text column. Forms, validation
    and max_length work on the plain value; the column holds the token.
    `get_db_prep_value` produces the stored token, so bulk_create and any code that
    writes rows itself (e.g. a bulk generator using COPY) store ciphertext too."""

    def get_internal_type(self) -> str:
        return "TextField"

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return EncryptedExact
        if lookup_name == "isnull":
            return IsNull
        return None

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None:
            return None
        return encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return value
        return decrypt(value)


class DerivedField(models.CharField):
    """A column computed from another field of the same row (`source`), recomputed
    whenever the row is saved or bulk-created (pre_save runs for both), and by the bulk
    writer of the load generator (minyi.core.loadgen.bulk). `queryset.update()` and
    `bulk_update()` bypass it: code that changes the source that way must set this
    column too. `derive` is a function of the source value alone."""

    # The keyword arguments every subclass's column takes unless told otherwise; left
    # out of deconstruct() so that migrations stay short.
    DEFAULTS: dict[str, Any] = {"blank": True, "default": "", "editable": False}

    def __init__(self, *args: Any, source: str = "", **kwargs: Any) -> None:
        self.source = source
        for key, value in self.DEFAULTS.items():
            kwargs.setdefault(key, value)
        super().__init__(*args, **kwargs)

    def derive(self, value: str) -> str:
        raise NotImplementedError

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, value in self.DEFAULTS.items():
            if kwargs.get(key) == value:
                kwargs.pop(key)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = self.derive(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value


class PhoneDigestField(DerivedField):
    """The lookup digest of the phone in `source` (phone_digest)."""

    DEFAULTS = {**DerivedField.DEFAULTS, "max_length": 64, "db_index": True}

    def derive(self, value: str) -> str:
        return phone_digest(value)


class MaskedNameField(DerivedField):
    """The masked form (王**) of the encrypted name in `source`, kept plain so that a
    list prints it without decrypting a name per row (docs/decisions.md)."""

    DEFAULTS = {**DerivedField.DEFAULTS, "max_length": 50}

    def derive(self, value: str) -> str:
        return mask_name(value)
