"""Private files sealed each under its own key, so that deleting the key deletes the file
everywhere, backups included (crypto-shredding).

A `SealedFileField` stores its file encrypted under a fresh random AES-256 key made for
that file alone; the key goes into the row's `key_field`, an `EncryptedCharField` (so the
database holds it under MINYI_FIELD_KEY, and `reencrypt_personal_data` rotates it with
the other columns). A copy of the media folder therefore holds only ciphertext: once a
purge has emptied or deleted the row, nothing can open the file or any earlier copy of it.

The format is chunked AES-GCM (the "STREAM" construction), so neither sealing nor opening
needs the whole file in memory: a header (MAGIC and a random 7-byte nonce prefix), then
chunks of CHUNK plaintext bytes, each with its own 16-byte tag. A chunk's nonce is the
prefix, its index and a flag marking the last chunk, and the header is the associated data
of every chunk: a chunk moved, dropped or cut off, or a file cut after any chunk, fails
authentication instead of yielding a shorter or reordered plaintext.

Files written before sealing existed are plain and have no MAGIC (an accepted upload
starts with its own signature: JPEG, PNG, PDF, WEBP, or the zip of an .xlsx); they are
read as they are until `manage.py seal_private_files` has sealed them in place
(docs/operations.md, docs/decisions.md).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterator
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.files.base import File
from django.db import models
from django.db.models import Q, signals
from django.db.models.fields.files import FieldFile

MAGIC = b"MINYISF1"
# A row with a file and no key: a file stored before sealing, still plain (every file
# saved since is sealed and keyed in the same save). For a partial index on each model,
# with the field names every sealed model uses (`file`, `file_key`).
UNSEALED = Q(file_key="") & ~Q(file="")
PREFIX = 7
HEADER = len(MAGIC) + PREFIX
CHUNK = 64 * 1024
TAG = 16
BROKEN = "文件已损坏或无法解密，请联系管理员从备份中恢复该文件。"


class SealBroken(Exception):
    """A sealed file that its key does not open: altered, cut short, or its key is gone.
    The message is for the page."""

    def __init__(self, message: str = BROKEN) -> None:
        super().__init__(message)
        self.message = message


def new_key() -> str:
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")


def _aead(key: str) -> AESGCM:
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
        return AESGCM(raw)
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise SealBroken from exc


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _read_full(handle: IO[bytes] | Any, size: int) -> bytes:
    """`size` bytes, fewer only at the end: a stream may return short reads."""
    parts, missing = [], size
    while missing:
        part = handle.read(missing)
        if not part:
            break
        parts.append(part)
        missing -= len(part)
    return b"".join(parts)


def seal_stream(source: IO[bytes] | Any, key: str) -> Iterator[bytes]:
    """The sealed form of `source`'s bytes, a chunk at a time."""
    aead = _aead(key)
    prefix = os.urandom(PREFIX)
    header = MAGIC + prefix
    yield header
    index, current = 0, _read_full(source, CHUNK)
    while True:
        following = _read_full(source, CHUNK)
        last = not following
        yield aead.encrypt(_nonce(prefix, index, last), current, header)
        if last:
            return
        index, current = index + 1, following


def is_sealed(head: bytes) -> bool:
    return head.startswith(MAGIC)


def plain_size(sealed_size: int) -> int:
    """The plaintext's length, from the sealed file's (every chunk adds a tag)."""
    body = sealed_size - HEADER
    chunks = max(1, -(-body // (CHUNK + TAG)))
    return body - chunks * TAG


class Opened:
    """A sealed file read back as its plaintext: `read(n)` decrypts chunk by chunk and
    raises SealBroken at the first chunk that fails authentication."""

    def __init__(self, handle: IO[bytes] | Any, key: str) -> None:
        self._handle = handle
        header = _read_full(handle, HEADER)
        if len(header) < HEADER or not is_sealed(header):
            raise SealBroken
        self._aead = _aead(key)
        self._header, self._prefix = header, header[len(MAGIC) :]
        self._index = 0
        self._buffer, self._offset = b"", 0
        self._next = _read_full(handle, CHUNK + TAG)
        self._done = False

    def _advance(self) -> bytes:
        current = self._next
        self._next = _read_full(self._handle, CHUNK + TAG)
        last = not self._next
        try:
            plain = self._aead.decrypt(
                _nonce(self._prefix, self._index, last), current, self._header
            )
        except (InvalidTag, ValueError) as exc:
            raise SealBroken from exc
        self._index += 1
        self._done = last
        return plain

    def read(self, size: int = -1) -> bytes:
        # The chunk being handed out is kept whole with an offset into it: a response
        # reads a few KB at a time, and slicing the rest off each time would copy it over.
        if size is None or size < 0:
            parts = [self._buffer[self._offset :]]
            while not self._done:
                parts.append(self._advance())
            self._buffer, self._offset = b"", 0
            return b"".join(parts)
        while len(self._buffer) - self._offset < size and not self._done:
            self._buffer = self._buffer[self._offset :] + self._advance()
            self._offset = 0
        data = self._buffer[self._offset : self._offset + size]
        self._offset += len(data)
        return data

    def verify(self) -> None:
        """Authenticate every chunk, keeping none: a download must not start on a file
        that turns out broken half-way, when the page can no longer say so."""
        while not self._done:
            self._advance()

    def close(self) -> None:
        self._handle.close()


class Sealing(File):
    """`content` as it is stored: sealed under `key`, streamed chunk by chunk. It offers
    no temporary_file_path, so the storage writes the chunks and never moves the
    plaintext upload into place."""

    def __init__(self, content: Any, key: str) -> None:
        super().__init__(None, name=getattr(content, "name", None))
        self._content = content
        self._key = key

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        if hasattr(self._content, "seek"):
            self._content.seek(0)
        yield from seal_stream(self._content, self._key)

    def multiple_chunks(self, chunk_size: int | None = None) -> bool:
        return True


class SealedFieldFile(FieldFile):
    field: SealedFileField

    def save(self, name: str, content: Any, save: bool = True) -> None:
        key = new_key()
        super().save(name, Sealing(content, key), save=False)
        setattr(self.instance, self.field.key_field, key)
        if save:
            self.instance.save()

    save.alters_data = True  # type: ignore[attr-defined]


class SealedFileField(models.FileField):
    """A FileField whose files are sealed under a key of their own, kept in the row's
    `key_field` (an EncryptedCharField). Read a file with `open_plain`. Whoever saves
    the row with update_fields must name the key field too."""

    attr_class = SealedFieldFile

    def __init__(self, *args: Any, key_field: str = "file_key", **kwargs: Any) -> None:
        self.key_field = key_field
        super().__init__(*args, **kwargs)

    def contribute_to_class(self, cls: Any, name: str, *args: Any, **kwargs: Any) -> None:
        super().contribute_to_class(cls, name, *args, **kwargs)
        # Not for migrations' historical models ("__fake__"), rebuilt many times over.
        if not cls._meta.abstract and cls.__module__ != "__fake__":
            signals.pre_save.connect(self._both_or_neither, sender=cls, weak=False)

    def _both_or_neither(self, sender: Any, update_fields: Any = None, **kwargs: Any) -> None:
        """A save that writes the file's name without its key would leave a file no key
        opens: refuse it loudly rather than lose the file."""
        if update_fields is None:
            return
        if (self.name in update_fields) != (self.key_field in update_fields):
            raise ValueError(
                f"{sender._meta.label}: update_fields must name both {self.name!r} and "
                f"{self.key_field!r} (minyi.core.sealed_files)."
            )

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.key_field != "file_key":
            kwargs["key_field"] = self.key_field
        return name, path, args, kwargs


def file_key(fieldfile: FieldFile) -> str:
    field = fieldfile.field
    assert isinstance(field, SealedFileField), f"{field} is not a SealedFileField"
    return getattr(fieldfile.instance, field.key_field) or ""


def open_plain(fieldfile: FieldFile) -> tuple[Any, int]:
    """The file's plaintext as a readable object (close it when done) and its length.
    A sealed file is authenticated whole before it is handed out; a plain file left from
    before sealing is read as it is. Raises FileNotFoundError when storage has no file,
    SealBroken when its key does not open it."""
    name, storage = fieldfile.name, fieldfile.storage
    if not name:
        raise FileNotFoundError("the row has no file")
    handle = storage.open(name, "rb")
    try:
        head = handle.read(len(MAGIC))
        handle.seek(0)
        if not is_sealed(head):
            return handle, storage.size(name)
        key = file_key(fieldfile)
        if not key:
            raise SealBroken
        Opened(handle, key).verify()
        handle.seek(0)
        return Opened(handle, key), plain_size(storage.size(name))
    except BaseException:
        handle.close()
        raise


def read_plain(fieldfile: FieldFile) -> bytes:
    reader, _size = open_plain(fieldfile)
    try:
        return reader.read()
    finally:
        reader.close()
