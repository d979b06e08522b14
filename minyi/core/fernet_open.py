"""Opening Fernet tokens without building an AES cipher for each one.

`Fernet.decrypt` builds a new `Cipher(AES, CBC(iv)).decryptor()` for every token. With
OpenSSL 3 that fetch and set-up is about half of a token's cost (some 40 µs of 80 here),
and a case list opens 50 reporters' phones a page, the ledger 100 (finding 38 of
docs/performance.md). CBC decryption is the ECB decryption of each block XORed with the
block before it (the IV for the first), so one ECB decryptor per key and thread serves
every token, and the HMAC's keyed state is copied rather than rebuilt.

Only opening is done here; tokens are still made by `Fernet.encrypt`. A token is opened
exactly when `Fernet(key).decrypt(token)` (no ttl) would open it, with the same result:
version byte 0x80, an HMAC-SHA256 tag over everything before it under the signing key
(compared in constant time, before anything is decrypted), a whole, non-empty number of
AES blocks, valid PKCS7 padding. Anything else raises `InvalidToken`, as Fernet does.
tests/core/test_fernet_open.py compares the two over random values, key rotation and
tampered tokens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
from collections.abc import Iterable

from cryptography.fernet import InvalidToken
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16
TAG = 32
HEADER = 9  # version byte and 8-byte timestamp


class _Key:
    def __init__(self, key: bytes | str) -> None:
        raw = base64.urlsafe_b64decode(key)
        if len(raw) != 32:
            raise ValueError("Fernet key must be 32 url-safe base64-encoded bytes.")
        self._mac = hmac.new(raw[:16], digestmod=hashlib.sha256)
        self._aes_key = raw[16:]
        # A cipher context is not to be shared between threads (runserver's are many).
        self._local = threading.local()

    def _ecb(self) -> object:
        ecb = getattr(self._local, "ecb", None)
        if ecb is None:
            ecb = Cipher(algorithms.AES(self._aes_key), modes.ECB()).decryptor()  # noqa: S305 - CBC done by hand below
            self._local.ecb = ecb
        return ecb

    def open(self, data: bytes) -> bytes:
        mac = self._mac.copy()
        mac.update(data[:-TAG])
        if not hmac.compare_digest(mac.digest(), data[-TAG:]):
            raise InvalidToken
        iv, ciphertext = data[HEADER : HEADER + BLOCK], data[HEADER + BLOCK : -TAG]
        size = len(ciphertext)
        if size == 0 or size % BLOCK:
            raise InvalidToken
        decrypted = self._ecb().update(ciphertext)  # type: ignore[attr-defined]
        chained = iv + ciphertext[:-BLOCK]
        padded = (int.from_bytes(decrypted, "big") ^ int.from_bytes(chained, "big")).to_bytes(
            size, "big"
        )
        pad = padded[-1]
        if not 1 <= pad <= BLOCK or padded[-pad:] != bytes((pad,)) * pad:
            raise InvalidToken
        return padded[:-pad]


class Opener:
    """MultiFernet's decrypt for a list of keys, the first the current one."""

    def __init__(self, keys: Iterable[bytes | str]) -> None:
        self._keys = [_Key(key) for key in keys]
        if not self._keys:
            raise ValueError("At least one key is needed.")

    def decrypt(self, token: bytes) -> bytes:
        try:
            data = base64.urlsafe_b64decode(token)
        except (TypeError, binascii.Error):
            raise InvalidToken from None
        if len(data) < HEADER or data[0] != 0x80:
            raise InvalidToken
        for key in self._keys:
            try:
                return key.open(data)
            except InvalidToken:
                continue
        raise InvalidToken
