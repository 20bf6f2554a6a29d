"""Encryption at rest: per-conversation data keys wrapped by versioned master keys.

Each conversation has a random 32-byte data key, stored only wrapped (secret box) by a master
key from the secrets file; the first byte of the wrapped key is the master key's version.
Message bodies, hand-over notes and the voluntary identity are encrypted with the data key.
Disclosure texts (justification, refusal, opened metadata) use keys derived from the master
key; their ciphertexts' version byte is the master key version they were derived from.

Unwrapped data keys are kept in a small in-memory LRU cache, so a conversation's key is
unwrapped once, not once per read. A master key version this process does not know makes it
re-read the secrets file once (a rotation started while it was running), so that nodes keep
reading during a rotation.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Final

from confide.security import crypto
from confide.settings import Secrets, load_secrets

log = logging.getLogger(__name__)

#: Version byte of ciphertexts made with a data key (data keys are never rotated themselves:
#: rotating the master key re-wraps them).
DATA_VERSION: Final = 1
CACHE_SIZE: Final = 4096


class KeyRing:
    def __init__(self, secrets: Secrets, cache_size: int = CACHE_SIZE) -> None:
        self._secrets = secrets
        self._cache: OrderedDict[bytes, bytes] = OrderedDict()
        self._cache_size = cache_size
        # The SQLite writer thread (group commit) reads data keys too.
        self._cache_lock = threading.Lock()

    @property
    def version(self) -> int:
        """The master key version that wraps new data keys."""
        return self._secrets.master_version

    def master_key(self, version: int) -> bytes:
        """The master key of ``version``; raises CryptoError when the secrets file (re-read
        once) does not have it."""
        key = self._secrets.master_keys.get(version)
        if key is None and self._secrets.path is not None:
            self._secrets = load_secrets(self._secrets.path)
            key = self._secrets.master_keys.get(version)
        if key is None:
            raise crypto.CryptoError(f"master key version {version} is not in the secrets file")
        return key

    # ----------------------------------------------------------------------- data keys

    def new_data_key(self) -> tuple[bytes, bytes]:
        """A fresh data key and the same key wrapped by the current master key."""
        key = crypto.random_key()
        wrapped = crypto.wrap_key(self.master_key(self.version), key, version=self.version)
        self._remember(wrapped, key)
        return key, wrapped

    def data_key(self, wrapped: bytes) -> bytes:
        """Unwrap a conversation's data key (cached); CryptoError when it cannot be."""
        wrapped = bytes(wrapped)
        with self._cache_lock:
            key = self._cache.get(wrapped)
            if key is not None:
                self._cache.move_to_end(wrapped)
                return key
        master = self.master_key(crypto.ciphertext_version(wrapped))
        key = crypto.unwrap_key(master, wrapped)
        self._remember(wrapped, key)
        return key

    def rewrap(self, wrapped: bytes) -> bytes | None:
        """The data key wrapped by the current master key; None when it already is."""
        if crypto.ciphertext_version(wrapped) == self.version:
            return None
        key = self.data_key(wrapped)
        rewrapped = crypto.wrap_key(self.master_key(self.version), key, version=self.version)
        self._remember(rewrapped, key)
        return rewrapped

    def _remember(self, wrapped: bytes, key: bytes) -> None:
        with self._cache_lock:
            self._cache[wrapped] = key
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    # ----------------------------------------------------------------------- derived keys

    def encrypt_derived(self, purpose: str, context: str, plaintext: bytes) -> bytes:
        """Encrypt under a key derived from the current master key (version byte = its
        version), for texts that have no conversation data key of their own."""
        key = crypto.derive_key(self.master_key(self.version), purpose, context)
        return crypto.encrypt(key, plaintext, version=self.version)

    def decrypt_derived(self, purpose: str, context: str, ciphertext: bytes) -> bytes:
        master = self.master_key(crypto.ciphertext_version(ciphertext))
        return crypto.decrypt(crypto.derive_key(master, purpose, context), ciphertext)

    def reencrypt_derived(self, purpose: str, context: str, ciphertext: bytes) -> bytes | None:
        """The same text under the current master key; None when it already is."""
        if crypto.ciphertext_version(ciphertext) == self.version:
            return None
        return self.encrypt_derived(
            purpose, context, self.decrypt_derived(purpose, context, ciphertext)
        )


def encrypt_text(key: bytes, text: str) -> bytes:
    """A text (message body, note, identity) under a conversation's data key."""
    return crypto.encrypt(key, text.encode("utf-8"), version=DATA_VERSION)


def decrypt_text(key: bytes, ciphertext: bytes) -> str:
    """Inverse of :func:`encrypt_text`; CryptoError when tampered with or not UTF-8."""
    plaintext = crypto.decrypt(key, bytes(ciphertext))
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise crypto.CryptoError("plaintext is not UTF-8") from exc
