"""Every cryptographic primitive Confide uses, in one place.

This is the only module allowed to import PyNaCl, argon2-cffi, pyotp, or to use
``hmac``/``hashlib`` for secrets: keeping them here means the choices (algorithms,
parameters, constant-time comparisons, error handling) are reviewed once and the
rest of the code only sees small, typed functions that raise :class:`CryptoError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
import unicodedata
from datetime import UTC, datetime
from functools import lru_cache
from typing import Final

import nacl.exceptions
import nacl.public
import nacl.pwhash.argon2id
import nacl.secret
import nacl.utils
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error, InvalidHashError

__all__ = [
    "CryptoError",
    "WrongPassphrase",
    "ciphertext_version",
    "decrypt",
    "derive_key",
    "encrypt",
    "equals",
    "hash_password",
    "new_keypair",
    "new_token",
    "new_totp_secret",
    "open_sealed",
    "password_needs_rehash",
    "protect_with_passphrase",
    "random_key",
    "seal",
    "sha256_hex",
    "token_digest",
    "totp_code",
    "totp_uri",
    "unprotect_with_passphrase",
    "unwrap_key",
    "verify_password",
    "verify_totp",
    "wrap_key",
]


class CryptoError(Exception):
    """A ciphertext could not be decrypted or authenticated.

    Callers catch this one type instead of library-specific exceptions, so
    swapping or upgrading the underlying library never changes error handling.
    """


class WrongPassphrase(CryptoError):
    """The passphrase does not open the protected blob.

    Separate from :class:`CryptoError` so the UI can ask again instead of
    reporting corrupted data.
    """


# --------------------------------------------------------------------------- tokens

KEY_SIZE: Final = nacl.secret.SecretBox.KEY_SIZE  # 32
TOKEN_BYTES: Final = 32


def new_token() -> str:
    """Return a 256-bit URL-safe secret (43 chars): unguessable visitor/session ids."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str, pepper: bytes) -> str:
    """HMAC-SHA256 of ``token`` keyed by ``pepper``, hex.

    Stored instead of the token so a database leak does not hand out live
    sessions; the pepper (kept outside the database) stops offline guessing.
    """
    if not pepper:
        raise ValueError("pepper must not be empty")
    return hmac.new(pepper, token.encode("utf-8"), hashlib.sha256).hexdigest()


def sha256_hex(data: bytes) -> str:
    """SHA-256 hex digest, for integrity fingerprints (not for passwords)."""
    return hashlib.sha256(data).hexdigest()


def equals(a: str, b: str) -> bool:
    """Constant-time string comparison, so secrets cannot be guessed by timing."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def random_key() -> bytes:
    """32 random bytes from the OS CSPRNG, the key size of :func:`encrypt`."""
    return secrets.token_bytes(KEY_SIZE)


def _nfc(text: str) -> bytes:
    """UTF-8 of the NFC form, so "é" typed as one or two code points matches."""
    return unicodedata.normalize("NFC", text).encode("utf-8")


# --------------------------------------------------------------------------- passwords

_hasher: Final = PasswordHasher()  # argon2id with argon2-cffi's (RFC 9106) defaults


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash with the live parameters, verified when the account is unknown.

    Computed lazily (not at import) so importing this module stays cheap, and
    with the same hasher so unknown and known accounts cost the same time.
    """
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """Hash a staff password with argon2id (self-describing PHC string)."""
    return _hasher.hash(_nfc(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; never raises.

    ``None`` (unknown account) still runs a full verification against a dummy
    hash so response time does not reveal which usernames exist.
    """
    target = _dummy_hash() if password_hash is None else password_hash
    try:
        ok = _hasher.verify(target, _nfc(password))
    except (Argon2Error, InvalidHashError, ValueError, TypeError):
        return False
    return ok and password_hash is not None


def password_needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker/older parameters (or is unreadable)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError, TypeError):
        return True


# --------------------------------------------------------------------------- TOTP

TOTP_INTERVAL: Final = 30
TOTP_DIGITS: Final = 6
TOTP_WINDOW: Final = 1  # steps accepted either side of "now", for clock drift
_MIN_TOTP_SECRET_BYTES: Final = 16  # RFC 4226 §4 R6: at least 128 bits
_CODE_RE: Final = re.compile(rf"[0-9]{{{TOTP_DIGITS}}}")


def _totp(secret: str) -> pyotp.TOTP:
    """Build the RFC 6238 generator, refusing secrets too short or not base32."""
    padded = secret + "=" * (-len(secret) % 8)
    try:
        raw = base64.b32decode(padded, casefold=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("TOTP secret is not valid base32") from exc
    if len(raw) < _MIN_TOTP_SECRET_BYTES:
        raise CryptoError("TOTP secret is shorter than 128 bits")
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, digest=hashlib.sha1, interval=TOTP_INTERVAL)


def _step(at: datetime | None) -> int:
    """Time step of ``at`` (naive datetimes are taken as UTC, as stored in the DB)."""
    if at is None:
        ts = time.time()
    else:
        ts = (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp()
    return int(ts // TOTP_INTERVAL)


def new_totp_secret() -> str:
    """Random 160-bit base32 secret, the size authenticator apps expect."""
    return str(pyotp.random_base32())


def totp_code(secret: str, at: datetime | None = None) -> str:
    """The 6-digit code for ``at`` (default now); mainly for tests and enrolment checks."""
    return str(_totp(secret).generate_otp(_step(at)))


def verify_totp(
    secret: str, code: str, *, last_used_step: int | None, at: datetime | None = None
) -> int | None:
    """Check a code typed by staff; return its time step, or ``None``.

    Accepts the current step ±1 for clock drift. A step not newer than
    ``last_used_step`` is refused so an observed code cannot be replayed; the
    caller stores the returned step as the new ``last_used_step``.
    """
    cleaned = code.replace(" ", "").strip()
    if not _CODE_RE.fullmatch(cleaned):
        return None
    totp = _totp(secret)
    now = _step(at)
    matched: int | None = None
    # Compare every candidate (no early exit) so timing does not leak which one matched.
    for step in range(now - TOTP_WINDOW, now + TOTP_WINDOW + 1):
        if last_used_step is not None and step <= last_used_step:
            continue
        if equals(str(totp.generate_otp(step)), cleaned) and matched is None:
            matched = step
    return matched


def totp_uri(secret: str, username: str, issuer: str = "Confide") -> str:
    """``otpauth://`` URI for the enrolment QR code."""
    return str(_totp(secret).provisioning_uri(name=username, issuer_name=issuer))


# --------------------------------------------------------------------------- secret box

_NONCE_SIZE: Final = nacl.secret.SecretBox.NONCE_SIZE
_MAC_SIZE: Final = nacl.secret.SecretBox.MACBYTES


def _check_key(key: bytes) -> None:
    """Wrong key sizes are configuration bugs: fail loudly, not as bad ciphertext."""
    if not isinstance(key, bytes) or len(key) != KEY_SIZE:
        raise ValueError(f"key must be {KEY_SIZE} bytes")


def encrypt(key: bytes, plaintext: bytes, *, version: int = 1) -> bytes:
    """XSalsa20-Poly1305 with a random nonce, prefixed by a key-version byte.

    The version byte lets old rows be read after a key rotation: the caller
    picks the key by :func:`ciphertext_version` before calling :func:`decrypt`.
    """
    _check_key(key)
    if not 1 <= version <= 255:
        raise ValueError("version must be in 1..255")
    return bytes([version]) + bytes(nacl.secret.SecretBox(key).encrypt(bytes(plaintext)))


def ciphertext_version(ciphertext: bytes) -> int:
    """The key version a ciphertext was made with."""
    if not ciphertext or ciphertext[0] == 0:
        raise CryptoError("ciphertext has no key version")
    return ciphertext[0]


def decrypt(key: bytes, ciphertext: bytes) -> bytes:
    """Authenticate and decrypt; any tampering, truncation or wrong key is CryptoError."""
    _check_key(key)
    ciphertext_version(ciphertext)
    body = bytes(ciphertext[1:])
    if len(body) < _NONCE_SIZE + _MAC_SIZE:
        raise CryptoError("ciphertext is too short")
    try:
        return bytes(nacl.secret.SecretBox(key).decrypt(body))
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise CryptoError("ciphertext could not be authenticated") from exc


def derive_key(master_key: bytes, purpose: str, context: str = "") -> bytes:
    """A 32-byte key for one purpose (and optionally one object) derived from the master key.

    BLAKE2b keyed by the master key, personalised by ``purpose``: keys for different uses
    (identity fields, opened metadata…) or different conversations never coincide, and
    knowing one derived key tells nothing about the master key or the others.
    """
    _check_key(master_key)
    if not purpose or len(purpose.encode()) > 16:
        raise ValueError("purpose must be 1..16 bytes")
    return hashlib.blake2b(
        context.encode("utf-8"),
        key=master_key,
        person=purpose.encode().ljust(16, b"\0"),
        digest_size=KEY_SIZE,
    ).digest()


def wrap_key(wrapping_key: bytes, key: bytes, *, version: int = 1) -> bytes:
    """Encrypt a data key under a key-encryption key (envelope encryption)."""
    return encrypt(wrapping_key, key, version=version)


def unwrap_key(wrapping_key: bytes, wrapped: bytes) -> bytes:
    """Inverse of :func:`wrap_key`."""
    return decrypt(wrapping_key, wrapped)


# --------------------------------------------------------------------------- sealed boxes


def new_keypair() -> tuple[bytes, bytes]:
    """A Curve25519 key pair as raw bytes ``(public_key, private_key)``."""
    private = nacl.public.PrivateKey.generate()
    return bytes(private.public_key), bytes(private)


def seal(public_key: bytes, plaintext: bytes) -> bytes:
    """Anonymous public-key encryption: the server can write but never read back.

    Used for connection metadata only the prosecution office may open.
    """
    try:
        box = nacl.public.SealedBox(nacl.public.PublicKey(bytes(public_key)))
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise ValueError("public key must be 32 bytes") from exc
    return bytes(box.encrypt(bytes(plaintext)))


def open_sealed(private_key: bytes, ciphertext: bytes) -> bytes:
    """Open a :func:`seal` box; wrong key or tampering raises CryptoError."""
    try:
        box = nacl.public.SealedBox(nacl.public.PrivateKey(bytes(private_key)))
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise ValueError("private key must be 32 bytes") from exc
    try:
        return bytes(box.decrypt(bytes(ciphertext)))
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise CryptoError("sealed box could not be opened") from exc


# --------------------------------------------------------------------------- passphrase

_PK_MAGIC: Final = b"CPK1"
_SALT_SIZE: Final = nacl.pwhash.argon2id.SALTBYTES  # 16
_HEADER_SIZE: Final = len(_PK_MAGIC) + _SALT_SIZE + 4 + 8
# Parameters read from a blob are capped so a forged blob cannot make the server
# allocate terabytes or spin for minutes.
_OPS_RANGE: Final = (nacl.pwhash.argon2id.OPSLIMIT_MIN, nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE)
_MEM_RANGE: Final = (nacl.pwhash.argon2id.MEMLIMIT_MIN, nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE)


def _derive(passphrase: str, salt: bytes, ops: int, mem: int) -> bytes:
    """Argon2id: makes each passphrase guess cost real time and memory."""
    return bytes(nacl.pwhash.argon2id.kdf(KEY_SIZE, _nfc(passphrase), salt, ops, mem))


def protect_with_passphrase(secret: bytes, passphrase: str, *, fast: bool = False) -> bytes:
    """Encrypt ``secret`` (e.g. a private key) under a passphrase.

    Format ``b"CPK1" + salt(16) + ops(4, big-endian) + mem(8, big-endian) +
    secretbox``: the KDF parameters travel with the blob so they can be raised
    later without breaking old blobs. ``fast`` uses minimal parameters (tests only).
    """
    if not passphrase:
        raise ValueError("passphrase must not be empty")
    if fast:
        ops, mem = _OPS_RANGE[0], _MEM_RANGE[0]
    else:
        ops = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
        mem = nacl.pwhash.argon2id.MEMLIMIT_MODERATE
    salt = nacl.utils.random(_SALT_SIZE)
    box = nacl.secret.SecretBox(_derive(passphrase, salt, ops, mem))
    header = _PK_MAGIC + salt + ops.to_bytes(4, "big") + mem.to_bytes(8, "big")
    return header + bytes(box.encrypt(bytes(secret)))


def unprotect_with_passphrase(blob: bytes, passphrase: str) -> bytes:
    """Inverse of :func:`protect_with_passphrase`.

    Raises WrongPassphrase when authentication fails (a wrong passphrase cannot
    be told apart from a tampered body), CryptoError when the blob is malformed.
    """
    blob = bytes(blob)
    if len(blob) < _HEADER_SIZE + _NONCE_SIZE + _MAC_SIZE or not blob.startswith(_PK_MAGIC):
        raise CryptoError("not a passphrase-protected blob")
    pos = len(_PK_MAGIC)
    salt = blob[pos : pos + _SALT_SIZE]
    pos += _SALT_SIZE
    ops = int.from_bytes(blob[pos : pos + 4], "big")
    mem = int.from_bytes(blob[pos + 4 : pos + 12], "big")
    if not (_OPS_RANGE[0] <= ops <= _OPS_RANGE[1] and _MEM_RANGE[0] <= mem <= _MEM_RANGE[1]):
        raise CryptoError("passphrase blob has out-of-range KDF parameters")
    try:
        key = _derive(passphrase, salt, ops, mem)
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise CryptoError("key derivation failed") from exc
    try:
        return bytes(nacl.secret.SecretBox(key).decrypt(blob[_HEADER_SIZE:]))
    except nacl.exceptions.CryptoError as exc:
        raise WrongPassphrase("wrong passphrase") from exc
    except (ValueError, TypeError) as exc:
        raise CryptoError("passphrase blob is malformed") from exc
