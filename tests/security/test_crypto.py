"""Tests for confide.security.crypto: every primitive, its failure modes, and no leaks of
library exceptions."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confide.security import crypto
from confide.security.crypto import CryptoError, WrongPassphrase

AT = datetime(2024, 3, 1, 12, 0, 5, tzinfo=UTC)  # 5 s into a step: ±1 step stays exact
STEP = int(AT.timestamp() // 30)


@pytest.fixture(scope="module")
def totp_secret() -> str:
    return crypto.new_totp_secret()


@pytest.fixture(scope="module")
def password_hash() -> str:
    return crypto.hash_password("correct horse battery staple")


# ------------------------------------------------------------------ tokens and digests


def test_new_token_is_43_urlsafe_chars_without_padding() -> None:
    token = crypto.new_token()
    assert len(token) == 43
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert len(base64.urlsafe_b64decode(token + "=")) == 32


def test_new_token_is_unique_and_high_entropy() -> None:
    tokens = {crypto.new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    # 1000 tokens × 43 chars: every one of the 64 symbols should show up.
    assert len(set("".join(tokens))) == 64


def test_token_digest_is_hmac_hex_and_depends_on_pepper_and_token() -> None:
    token = crypto.new_token()
    d1 = crypto.token_digest(token, b"pepper-one")
    assert re.fullmatch(r"[0-9a-f]{64}", d1)
    assert crypto.token_digest(token, b"pepper-one") == d1
    assert crypto.token_digest(token, b"pepper-two") != d1
    assert crypto.token_digest(crypto.new_token(), b"pepper-one") != d1
    assert d1 != crypto.sha256_hex(token.encode())


def test_token_digest_known_vector() -> None:
    # RFC 4231 test case 2.
    assert (
        crypto.token_digest("what do ya want for nothing?", b"Jefe")
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_token_digest_refuses_empty_pepper() -> None:
    with pytest.raises(ValueError, match="pepper"):
        crypto.token_digest("x", b"")


def test_sha256_hex() -> None:
    assert (
        crypto.sha256_hex(b"abc")
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_equals() -> None:
    assert crypto.equals("abc", "abc")
    assert not crypto.equals("abc", "abd")
    assert not crypto.equals("abc", "abcd")
    assert crypto.equals("é", "é")
    assert crypto.equals("", "")


def test_random_key() -> None:
    keys = {crypto.random_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(isinstance(k, bytes) and len(k) == 32 for k in keys)


# ------------------------------------------------------------------ passwords


def test_password_round_trip(password_hash: str) -> None:
    assert password_hash.startswith("$argon2id$")
    assert crypto.verify_password(password_hash, "correct horse battery staple")
    assert not crypto.password_needs_rehash(password_hash)


def test_password_hashes_are_salted() -> None:
    assert crypto.hash_password("same") != crypto.hash_password("same")


def test_wrong_password(password_hash: str) -> None:
    assert not crypto.verify_password(password_hash, "correct horse battery stapl")
    assert not crypto.verify_password(password_hash, "")


def test_password_unicode_normalisation() -> None:
    h = crypto.hash_password("caf\u00e9")  # precomposed é
    assert crypto.verify_password(h, "cafe\u0301")  # e + combining acute


@pytest.mark.parametrize(
    "garbage",
    ["", "not a hash", "$argon2id$v=19$m=65536,t=3,p=4$garbage", "$2b$12$abcdefghijk", "\x00\xff"],
)
def test_garbage_hash_is_false_not_an_error(garbage: str) -> None:
    assert crypto.verify_password(garbage, "whatever") is False
    assert crypto.password_needs_rehash(garbage) is True


def test_none_hash_is_false_and_still_runs_a_verification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = crypto._hasher
    calls: list[str] = []

    class SpyHasher:
        def hash(self, password: str | bytes) -> str:
            return real.hash(password)

        def verify(self, h: str, password: str | bytes) -> bool:
            calls.append(h)
            return real.verify(h, password)

    monkeypatch.setattr(crypto, "_hasher", SpyHasher())
    assert crypto.verify_password(None, "anything") is False
    assert len(calls) == 1
    assert calls[0].startswith("$argon2id$")
    monkeypatch.undo()
    assert not crypto.password_needs_rehash(calls[0])  # same cost as a real account


def test_weaker_hash_needs_rehash() -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw")
    assert crypto.verify_password(weak, "pw")
    assert crypto.password_needs_rehash(weak)


# ------------------------------------------------------------------ TOTP


def test_totp_secret_is_base32_160_bits(totp_secret: str) -> None:
    assert len(base64.b32decode(totp_secret)) == 20
    assert crypto.new_totp_secret() != totp_secret


def test_totp_rfc6238_vector() -> None:
    # RFC 6238 appendix B, SHA1, T=59 -> 94287082 (8 digits), last 6 digits -> 287082.
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert crypto.totp_code(secret, datetime.fromtimestamp(59, UTC)) == "287082"
    assert crypto.totp_code(secret, datetime.fromtimestamp(1111111109, UTC)) == "081804"


def test_totp_code_format(totp_secret: str) -> None:
    assert re.fullmatch(r"[0-9]{6}", crypto.totp_code(totp_secret))


def test_naive_datetime_is_utc(totp_secret: str) -> None:
    naive = AT.replace(tzinfo=None)
    assert crypto.totp_code(totp_secret, naive) == crypto.totp_code(totp_secret, AT)


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_verify_totp_accepts_current_and_adjacent_steps(totp_secret: str, offset: int) -> None:
    code = crypto.totp_code(totp_secret, AT + timedelta(seconds=30 * offset))
    assert crypto.verify_totp(totp_secret, code, last_used_step=None, at=AT) == STEP + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_verify_totp_refuses_far_steps(totp_secret: str, offset: int) -> None:
    code = crypto.totp_code(totp_secret, AT + timedelta(seconds=30 * offset))
    near = {crypto.totp_code(totp_secret, AT + timedelta(seconds=30 * d)) for d in (-1, 0, 1)}
    if code in near:  # 1-in-10^6 collision with an accepted step
        pytest.skip("random secret produced a colliding code")
    assert crypto.verify_totp(totp_secret, code, last_used_step=None, at=AT) is None


def test_verify_totp_refuses_replay_of_same_step(totp_secret: str) -> None:
    code = crypto.totp_code(totp_secret, AT)
    step = crypto.verify_totp(totp_secret, code, last_used_step=None, at=AT)
    assert step == STEP
    assert crypto.verify_totp(totp_secret, code, last_used_step=step, at=AT) is None
    # Still refused a few seconds later, within the drift window.
    later = AT + timedelta(seconds=20)
    assert crypto.verify_totp(totp_secret, code, last_used_step=step, at=later) is None


def test_verify_totp_refuses_older_step_after_newer_one(totp_secret: str) -> None:
    previous = crypto.totp_code(totp_secret, AT - timedelta(seconds=30))
    assert crypto.verify_totp(totp_secret, previous, last_used_step=STEP, at=AT) is None
    # ...but the next step is still accepted.
    following = crypto.totp_code(totp_secret, AT + timedelta(seconds=30))
    assert crypto.verify_totp(totp_secret, following, last_used_step=STEP, at=AT) == STEP + 1


def test_verify_totp_accepts_code_with_spaces(totp_secret: str) -> None:
    code = crypto.totp_code(totp_secret, AT)
    spaced = f" {code[:3]} {code[3:]} "
    assert crypto.verify_totp(totp_secret, spaced, last_used_step=None, at=AT) == STEP


def test_verify_totp_wrong_code(totp_secret: str) -> None:
    valid = {crypto.totp_code(totp_secret, AT + timedelta(seconds=30 * d)) for d in (-1, 0, 1)}
    wrong = next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in valid)
    assert crypto.verify_totp(totp_secret, wrong, last_used_step=None, at=AT) is None


@pytest.mark.parametrize(
    "transform",
    [
        lambda c: c[:5] + "a",  # letter
        lambda c: c[:5],  # too short
        lambda c: c + "0",  # too long
        lambda c: "",  # empty
        lambda c: c[:3] + "-" + c[3:],  # punctuation
        lambda c: "".join(chr(0x0660 + int(d)) for d in c),  # Arabic-Indic digits
        lambda c: "\uff10" + c[1:],  # fullwidth digit
    ],
)
def test_verify_totp_refuses_non_digits(totp_secret: str, transform: object) -> None:
    assert callable(transform)
    code = crypto.totp_code(totp_secret, AT)
    assert crypto.verify_totp(totp_secret, transform(code), last_used_step=None, at=AT) is None


def test_verify_totp_uses_current_time_by_default(totp_secret: str) -> None:
    code = crypto.totp_code(totp_secret)
    step = crypto.verify_totp(totp_secret, code, last_used_step=None)
    now_step = int(datetime.now(UTC).timestamp() // 30)
    assert step is not None
    assert abs(step - now_step) <= 1


@pytest.mark.parametrize("bad_secret", ["", "ABC", "not base32!!", "A" * 16])
def test_bad_totp_secret_raises_crypto_error(bad_secret: str) -> None:
    with pytest.raises(CryptoError):
        crypto.totp_code(bad_secret, AT)
    with pytest.raises(CryptoError):
        crypto.verify_totp(bad_secret, "123456", last_used_step=None, at=AT)


def test_totp_uri(totp_secret: str) -> None:
    uri = crypto.totp_uri(totp_secret, "marie.dupont")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth"
    assert parsed.netloc == "totp"
    assert unquote(parsed.path) == "/Confide:marie.dupont"
    query = parse_qs(parsed.query)
    assert query["secret"] == [totp_secret]
    assert query["issuer"] == ["Confide"]
    assert "Gendarmerie" in unquote(crypto.totp_uri(totp_secret, "x", issuer="Gendarmerie"))


# ------------------------------------------------------------------ secret box


def test_encrypt_round_trip_and_version_byte() -> None:
    key = crypto.random_key()
    ct = crypto.encrypt(key, b"secret message")
    assert ct[0] == 1
    assert crypto.ciphertext_version(ct) == 1
    assert b"secret message" not in ct
    assert len(ct) == 1 + 24 + 16 + len(b"secret message")
    assert crypto.decrypt(key, ct) == b"secret message"


@pytest.mark.parametrize("version", [1, 2, 255])
def test_encrypt_keeps_version(version: int) -> None:
    key = crypto.random_key()
    ct = crypto.encrypt(key, b"x", version=version)
    assert crypto.ciphertext_version(ct) == version
    assert crypto.decrypt(key, ct) == b"x"


@pytest.mark.parametrize("version", [0, 256, -1])
def test_encrypt_refuses_bad_version(version: int) -> None:
    with pytest.raises(ValueError, match="version"):
        crypto.encrypt(crypto.random_key(), b"x", version=version)


def test_encrypt_uses_fresh_nonce() -> None:
    key = crypto.random_key()
    assert crypto.encrypt(key, b"same") != crypto.encrypt(key, b"same")


def test_encrypt_empty_plaintext() -> None:
    key = crypto.random_key()
    assert crypto.decrypt(key, crypto.encrypt(key, b"")) == b""


def test_tampered_byte_raises_crypto_error() -> None:
    key = crypto.random_key()
    ct = crypto.encrypt(key, b"hello world")
    for i in range(1, len(ct)):  # every byte after the version: nonce, MAC, body
        tampered = bytearray(ct)
        tampered[i] ^= 0x01
        with pytest.raises(CryptoError):
            crypto.decrypt(key, bytes(tampered))


def test_truncated_ciphertext_raises_crypto_error() -> None:
    key = crypto.random_key()
    ct = crypto.encrypt(key, b"hello world")
    for n in (1, 2, 24, 25, 40, 41, len(ct) - 1):
        with pytest.raises(CryptoError):
            crypto.decrypt(key, ct[:n])


def test_wrong_key_raises_crypto_error() -> None:
    ct = crypto.encrypt(crypto.random_key(), b"hello")
    with pytest.raises(CryptoError):
        crypto.decrypt(crypto.random_key(), ct)


def test_empty_ciphertext_raises_crypto_error() -> None:
    with pytest.raises(CryptoError):
        crypto.decrypt(crypto.random_key(), b"")
    with pytest.raises(CryptoError):
        crypto.ciphertext_version(b"")


def test_version_zero_is_malformed() -> None:
    key = crypto.random_key()
    ct = bytearray(crypto.encrypt(key, b"x"))
    ct[0] = 0
    with pytest.raises(CryptoError):
        crypto.decrypt(key, bytes(ct))


def test_crypto_error_is_not_a_nacl_exception() -> None:
    import nacl.exceptions

    with pytest.raises(CryptoError) as info:
        crypto.decrypt(crypto.random_key(), crypto.encrypt(crypto.random_key(), b"x"))
    assert type(info.value) is CryptoError
    assert not isinstance(info.value, nacl.exceptions.CryptoError)


@pytest.mark.parametrize("key", [b"", b"short", b"x" * 31, b"x" * 33])
def test_bad_key_size_is_a_value_error(key: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        crypto.encrypt(key, b"x")
    with pytest.raises(ValueError, match="32 bytes"):
        crypto.decrypt(key, b"\x01" + b"\x00" * 50)


@settings(max_examples=50, deadline=None)
@given(plaintext=st.binary(max_size=4096), version=st.integers(min_value=1, max_value=255))
def test_encrypt_decrypt_property(plaintext: bytes, version: int) -> None:
    key = crypto.random_key()
    ct = crypto.encrypt(key, plaintext, version=version)
    assert crypto.ciphertext_version(ct) == version
    assert crypto.decrypt(key, ct) == plaintext


def test_wrap_unwrap_key() -> None:
    kek, dek = crypto.random_key(), crypto.random_key()
    wrapped = crypto.wrap_key(kek, dek, version=3)
    assert crypto.ciphertext_version(wrapped) == 3
    assert dek not in wrapped
    assert crypto.unwrap_key(kek, wrapped) == dek
    with pytest.raises(CryptoError):
        crypto.unwrap_key(crypto.random_key(), wrapped)


# ------------------------------------------------------------------ sealed boxes


def test_keypair() -> None:
    public, private = crypto.new_keypair()
    assert len(public) == 32
    assert len(private) == 32
    assert public != private
    assert crypto.new_keypair() != (public, private)


def test_sealed_round_trip() -> None:
    public, private = crypto.new_keypair()
    ct = crypto.seal(public, b"ip=203.0.113.7")
    assert b"203.0.113.7" not in ct
    assert crypto.seal(public, b"ip=203.0.113.7") != ct  # ephemeral sender key
    assert crypto.open_sealed(private, ct) == b"ip=203.0.113.7"


def test_sealed_wrong_private_key() -> None:
    public, _ = crypto.new_keypair()
    _, other_private = crypto.new_keypair()
    ct = crypto.seal(public, b"metadata")
    with pytest.raises(CryptoError):
        crypto.open_sealed(other_private, ct)


def test_sealed_tampered_or_empty() -> None:
    public, private = crypto.new_keypair()
    ct = bytearray(crypto.seal(public, b"metadata"))
    ct[-1] ^= 0x01
    with pytest.raises(CryptoError):
        crypto.open_sealed(private, bytes(ct))
    with pytest.raises(CryptoError):
        crypto.open_sealed(private, b"")


def test_sealed_bad_key_sizes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        crypto.seal(b"short", b"x")
    with pytest.raises(ValueError, match="32 bytes"):
        crypto.open_sealed(b"short", b"x" * 64)


# ------------------------------------------------------------------ passphrase-protected keys


def test_passphrase_round_trip_and_format() -> None:
    _, private = crypto.new_keypair()
    blob = crypto.protect_with_passphrase(private, "parquet de Lyon 2024", fast=True)
    assert blob[:4] == b"CPK1"
    ops = int.from_bytes(blob[20:24], "big")
    mem = int.from_bytes(blob[24:32], "big")
    assert (ops, mem) == (1, 8192)
    assert private not in blob
    assert len(blob) == 4 + 16 + 4 + 8 + 24 + 16 + 32
    assert crypto.unprotect_with_passphrase(blob, "parquet de Lyon 2024") == private


def test_passphrase_default_uses_moderate_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    import nacl.pwhash.argon2id as argon2id

    seen: list[tuple[int, int]] = []
    real_derive = crypto._derive

    def cheap(passphrase: str, salt: bytes, ops: int, mem: int) -> bytes:
        seen.append((ops, mem))
        return real_derive(passphrase, salt, argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN)

    monkeypatch.setattr(crypto, "_derive", cheap)
    blob = crypto.protect_with_passphrase(b"k", "pass")
    assert int.from_bytes(blob[20:24], "big") == argon2id.OPSLIMIT_MODERATE
    assert int.from_bytes(blob[24:32], "big") == argon2id.MEMLIMIT_MODERATE
    assert crypto.unprotect_with_passphrase(blob, "pass") == b"k"
    assert seen == [(argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE)] * 2


def test_passphrase_salt_is_random() -> None:
    a = crypto.protect_with_passphrase(b"k", "pass", fast=True)
    b = crypto.protect_with_passphrase(b"k", "pass", fast=True)
    assert a[4:20] != b[4:20]


def test_wrong_passphrase() -> None:
    blob = crypto.protect_with_passphrase(b"secret key", "right", fast=True)
    with pytest.raises(WrongPassphrase):
        crypto.unprotect_with_passphrase(blob, "wrong")
    with pytest.raises(WrongPassphrase):
        crypto.unprotect_with_passphrase(blob, "Right")


def test_passphrase_unicode_normalisation() -> None:
    blob = crypto.protect_with_passphrase(b"k", "proc\u00e8s", fast=True)
    assert crypto.unprotect_with_passphrase(blob, "proce\u0300s") == b"k"


def test_tampered_passphrase_body_is_refused() -> None:
    blob = bytearray(crypto.protect_with_passphrase(b"k", "pass", fast=True))
    blob[-1] ^= 0x01
    with pytest.raises(CryptoError):
        crypto.unprotect_with_passphrase(bytes(blob), "pass")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b"",
        lambda b: b"CPK1",
        lambda b: b"XXXX" + b[4:],  # bad magic
        lambda b: b[:40],  # truncated
        lambda b: b[:20] + (0).to_bytes(4, "big") + b[24:],  # ops below minimum
        lambda b: b[:20] + (10**6).to_bytes(4, "big") + b[24:],  # ops absurdly high
        lambda b: b[:24] + (2**40).to_bytes(8, "big") + b[32:],  # 1 TiB of memory
        lambda b: b[:24] + (16).to_bytes(8, "big") + b[32:],  # memory below minimum
    ],
)
def test_malformed_passphrase_blob(mutate: object) -> None:
    assert callable(mutate)
    blob = crypto.protect_with_passphrase(b"k", "pass", fast=True)
    with pytest.raises(CryptoError) as info:
        crypto.unprotect_with_passphrase(mutate(blob), "pass")
    assert not isinstance(info.value, WrongPassphrase)


def test_empty_passphrase_refused() -> None:
    with pytest.raises(ValueError, match="passphrase"):
        crypto.protect_with_passphrase(b"k", "", fast=True)


def test_wrong_passphrase_is_a_crypto_error() -> None:
    assert issubclass(WrongPassphrase, CryptoError)


# ---- derived keys -----------------------------------------------------------------------------


def test_derived_keys_depend_on_master_purpose_and_context() -> None:
    master = crypto.random_key()
    key = crypto.derive_key(master, "identity", "conv-1")
    assert len(key) == 32
    assert key == crypto.derive_key(master, "identity", "conv-1")
    others = {
        crypto.derive_key(master, "identity", "conv-2"),
        crypto.derive_key(master, "revealed", "conv-1"),
        crypto.derive_key(crypto.random_key(), "identity", "conv-1"),
    }
    assert key not in others
    assert len(others) == 3
    assert crypto.decrypt(key, crypto.encrypt(key, b"x")) == b"x"


def test_derive_key_refuses_bad_master_keys_and_purposes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        crypto.derive_key(b"short", "identity")
    with pytest.raises(ValueError, match="purpose"):
        crypto.derive_key(crypto.random_key(), "")
    with pytest.raises(ValueError, match="purpose"):
        crypto.derive_key(crypto.random_key(), "x" * 17)
