"""minyi.core.fernet_open opens exactly the tokens Fernet opens, with the same result,
and refuses what Fernet refuses (InvalidToken)."""

from __future__ import annotations

import base64
import threading

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from hypothesis import given, settings
from hypothesis import strategies as st

from minyi.core.fernet_open import Opener

KEY, OLD, OTHER = Fernet.generate_key(), Fernet.generate_key(), Fernet.generate_key()


def _fernet_answer(fernet: MultiFernet, token: bytes) -> bytes | type[InvalidToken]:
    try:
        return fernet.decrypt(token)
    except InvalidToken:
        return InvalidToken


def _our_answer(opener: Opener, token: bytes) -> bytes | type[InvalidToken]:
    try:
        return opener.decrypt(token)
    except InvalidToken:
        return InvalidToken


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80) | st.text(max_size=40).map(str.encode))
def test_opens_what_fernet_made_with_the_same_result(value: bytes) -> None:
    token = Fernet(KEY).encrypt(value)
    assert Opener([KEY]).decrypt(token) == value == Fernet(KEY).decrypt(token)


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 31, 32, 33, 64])
def test_every_padding_length(size: int) -> None:
    value = bytes(range(size))
    assert Opener([KEY]).decrypt(Fernet(KEY).encrypt(value)) == value


def test_a_rotated_key_still_opens_and_an_unknown_key_does_not() -> None:
    token = Fernet(OLD).encrypt(b"13800005678")
    assert Opener([KEY, OLD]).decrypt(token) == b"13800005678"
    with pytest.raises(InvalidToken):
        Opener([KEY]).decrypt(token)
    with pytest.raises(InvalidToken):
        Opener([OTHER]).decrypt(Fernet(KEY).encrypt(b"x"))


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_a_tampered_token_is_refused_as_fernet_refuses_it(data: st.DataObject) -> None:
    fernet, opener = MultiFernet([Fernet(KEY), Fernet(OLD)]), Opener([KEY, OLD])
    raw = bytearray(
        base64.urlsafe_b64decode(Fernet(KEY).encrypt(data.draw(st.binary(max_size=40))))
    )
    change = data.draw(st.sampled_from(["flip", "cut", "extend", "version"]))
    if change == "flip":
        index = data.draw(st.integers(0, len(raw) - 1))
        raw[index] ^= data.draw(st.integers(1, 255))
    elif change == "cut":
        del raw[data.draw(st.integers(0, len(raw) - 1)) :]
    elif change == "extend":
        raw += data.draw(st.binary(min_size=1, max_size=32))
    else:
        raw[0] = 0x81
    token = base64.urlsafe_b64encode(bytes(raw))
    assert _our_answer(opener, token) is InvalidToken
    assert _fernet_answer(fernet, token) is InvalidToken


@pytest.mark.parametrize(
    "token", [b"", b"gAAAAA", b"not base64!", b"gAAAAA" + b"A" * 100, b"gAAAA="]
)
def test_rubbish_is_refused_as_fernet_refuses_it(token: bytes) -> None:
    assert _our_answer(Opener([KEY]), token) is InvalidToken
    assert _fernet_answer(MultiFernet([Fernet(KEY)]), token) is InvalidToken


def test_a_tag_made_with_the_right_key_over_bad_padding_is_refused() -> None:
    """Authentic-looking but wrongly padded: only a forger with the key could make it,
    and Fernet refuses it; so do we."""
    import hashlib
    import hmac

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    raw = base64.urlsafe_b64decode(KEY)
    iv = bytes(16)
    block = bytes(15) + b"\x11"  # a pad byte of 17 is never valid
    encryptor = Cipher(algorithms.AES(raw[16:]), modes.CBC(iv)).encryptor()
    body = b"\x80" + bytes(8) + iv + encryptor.update(block) + encryptor.finalize()
    token = base64.urlsafe_b64encode(body + hmac.digest(raw[:16], body, hashlib.sha256))
    assert _our_answer(Opener([KEY]), token) is InvalidToken
    assert _fernet_answer(MultiFernet([Fernet(KEY)]), token) is InvalidToken


def test_threads_each_get_the_right_answers() -> None:
    opener = Opener([KEY])
    tokens = {value: Fernet(KEY).encrypt(value) for value in (b"a" * n for n in range(1, 40))}
    failures: list[bytes] = []

    def work() -> None:
        for _ in range(50):
            for value, token in tokens.items():
                if opener.decrypt(token) != value:
                    failures.append(value)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
