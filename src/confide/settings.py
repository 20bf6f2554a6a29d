"""Runtime settings, read from the environment (prefix ``CONFIDE_``)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONFIDE_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str | None = None
    secrets_file: Path | None = None

    host: str = "127.0.0.1"
    port: int = 8000
    # Cookies carry the Secure flag unless the demo runs on plain http://127.0.0.1.
    secure_cookies: bool = False
    # Where quick exit sends the visitor: a neutral, ordinary site.
    exit_url: str = "https://meteofrance.com/"
    # Shown as page title on visitor pages instead of "Confide" when set.
    neutral_title: str | None = None
    default_lang: str = "fr"

    staff_session_hours: int = 12
    login_max_failures: int = 5
    login_lockout_minutes: int = 15

    message_max_chars: int = 4000
    frame_max_bytes: int = 16 * 1024
    # Messages a visitor or staff socket may send per 10 s before being told to slow down.
    messages_per_10s: int = 20
    conversations_per_hour_per_network: int = 30
    # Routing (issue 4). Not answered after `routing_overflow_s` → the national team as well;
    # `routing_alert_s` more → supervisors are alerted and the visitor sees emergency numbers.
    routing_overflow_s: int = 60
    routing_alert_s: int = 60
    # An officer who disconnects, logs out, goes offline or ends a shift keeps their
    # conversations this long (a page reload does no harm), then they go back to the queue.
    routing_grace_s: int = 30
    routing_default_capacity: int = 3
    routing_tick_s: float = 1.0
    routing_lease_s: int = 10
    routing_jobs: bool = True
    # Reverse proxies (addresses or networks, e.g. "10.0.0.0/8") whose X-Forwarded-For is
    # believed; from anyone else the header is ignored (it could be forged).
    trusted_proxies: list[str] = Field(default_factory=list)

    # Disclosure (issue 6). Opened connection metadata stays readable this long after approval.
    disclosure_reveal_hours: int = 24
    # Tests only: minimal Argon2id parameters when protecting a new prosecutor key.
    prosecutor_kdf_fast: bool = False
    # Retention: ended conversations are deleted after `conversation_retention_days`; sealed
    # connection metadata after `sealed_metadata_retention_days` unless a request is pending.
    conversation_retention_days: int = 365
    sealed_metadata_retention_days: int = 30
    purge_interval_s: int = 3600
    purge_jobs: bool = True

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'confide.db'}"

    @property
    def resolved_secrets_file(self) -> Path:
        return self.secrets_file or self.data_dir / "secrets.json"


@dataclass(frozen=True)
class Secrets:
    """Server secrets, generated once into a file only its owner can read.

    ``master_keys`` maps a version (1..255, the version byte of every key wrapped by it) to a
    32-byte master key; ``master_version`` is the one that wraps new keys. Older versions stay
    so that what they wrapped can still be opened until ``confide keys rotate-master`` has
    re-wrapped it.
    """

    token_pepper: bytes
    master_keys: Mapping[int, bytes]
    master_version: int = 1
    #: The file they were read from (re-read when a version it did not have shows up).
    path: Path | None = None

    @property
    def master_key(self) -> bytes:
        """The current master key."""
        return self.master_keys[self.master_version]


def _write_private(path: Path, content: dict[str, object], *, exclusive: bool) -> bool:
    """Write JSON readable by the owner only. ``exclusive``: only if the file does not exist
    (False when another process made it first); otherwise replace it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if exclusive:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as handle:
            json.dump(content, handle)
        return True
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return True


def load_secrets(path: Path) -> Secrets:
    """Read the secrets file, creating it (mode 0600) with fresh random secrets on first run.

    Two formats: ``{token_pepper, master_key}`` (a single master key, version 1: what a first
    run writes) and, once a master key was rotated, ``{token_pepper, master_keys: {"1": hex,
    "2": hex…}, master_version: 2}``.
    """
    from confide.security import crypto

    if not path.exists():
        _write_private(
            path,
            {
                "token_pepper": crypto.random_key().hex(),
                "master_key": crypto.random_key().hex(),
            },
            exclusive=True,
        )  # False: another process created it first, read theirs
    data = json.loads(path.read_text())
    if "master_keys" in data:
        keys = {int(version): bytes.fromhex(key) for version, key in data["master_keys"].items()}
        version = int(data["master_version"])
    else:
        keys, version = {1: bytes.fromhex(data["master_key"])}, 1
    if version not in keys or not all(1 <= v <= 255 and len(k) == 32 for v, k in keys.items()):
        raise ValueError(f"{path}: the master keys are malformed")
    return Secrets(
        token_pepper=bytes.fromhex(data["token_pepper"]),
        master_keys=keys,
        master_version=version,
        path=path,
    )


def add_master_key(path: Path) -> Secrets:
    """Add a new random master key to the secrets file and make it the current version (the
    file is rewritten atomically in the versioned format). Older versions are kept."""
    from confide.security import crypto

    current = load_secrets(path)
    version = max(current.master_keys) + 1
    if version > 255:
        raise ValueError("no master key version left (255 at most)")
    keys = {**current.master_keys, version: crypto.random_key()}
    _write_private(
        path,
        {
            "token_pepper": current.token_pepper.hex(),
            "master_keys": {str(v): k.hex() for v, k in sorted(keys.items())},
            "master_version": version,
        },
        exclusive=False,
    )
    return load_secrets(path)
