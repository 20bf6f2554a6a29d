"""The `confide` command on a fresh embedded database: migrate, demo, create-staff, totp,
audit verify, and the refusal to serve an unmigrated database."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest

from tests.conftest import free_port


def confide(
    data_dir: Path, *args: str, timeout: float = 60, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIDE_")}
    env["CONFIDE_DATA_DIR"] = str(data_dir)
    env["CONFIDE_PROSECUTOR_KDF_FAST"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "confide.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    return tmp_path / "var"


def test_serve_refuses_an_unmigrated_database(fresh: Path) -> None:
    result = confide(fresh, "serve", "--port", str(free_port()))
    assert result.returncode == 2
    assert "not migrated" in result.stderr
    assert "confide migrate" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_demo_and_totp(fresh: Path) -> None:
    assert confide(fresh, "migrate").returncode == 0
    first = confide(fresh, "demo")
    assert first.returncode == 0, first.stderr
    for role in ("officer", "psychologist", "supervisor", "prosecutor", "admin"):
        assert re.search(rf"^\s+{role}\s+\S+\s+\S+$", first.stdout, re.M), first.stdout
    assert "demo-parquet-passphrase" in first.stdout
    # Idempotent: a second run creates nothing new and still prints the accounts.
    assert confide(fresh, "demo").returncode == 0
    with sqlite3.connect(fresh / "confide.db") as db:
        assert db.execute("SELECT count(*) FROM prosecutor_keys").fetchone() == (1,)
    code = confide(fresh, "totp", "officer")
    assert re.fullmatch(r"\d{6}\n", code.stdout)
    assert confide(fresh, "totp", "not-a-demo-account").returncode == 1
    # The secrets file is readable by its owner only.
    assert (fresh / "secrets.json").stat().st_mode & 0o077 == 0


def test_create_staff_prints_a_working_totp_secret(fresh: Path) -> None:
    confide(fresh, "migrate")
    result = confide(
        fresh,
        "create-staff",
        "--role",
        "officer",
        "--username",
        "claire",
        "--password",
        "a-long-password",
    )
    assert result.returncode == 0, result.stderr
    secret = re.search(r"TOTP secret: (\w+)", result.stdout)
    assert secret is not None
    assert pyotp.TOTP(secret.group(1)).now().isdigit()
    duplicate = confide(
        fresh,
        "create-staff",
        "--role",
        "officer",
        "--username",
        "claire",
        "--password",
        "a-long-password",
    )
    assert duplicate.returncode == 1
    assert "taken" in duplicate.stderr
    bad_role = confide(
        fresh,
        "create-staff",
        "--role",
        "king",
        "--username",
        "louis",
        "--password",
        "a-long-password",
    )
    assert bad_role.returncode == 1
    assert "Unknown role" in bad_role.stderr


def test_audit_verify_finds_a_tampered_entry(fresh: Path) -> None:
    confide(fresh, "migrate")
    confide(fresh, "demo")
    ok = confide(fresh, "audit", "verify")
    assert ok.returncode == 0
    # 5 accounts, 4 teams, 5 memberships, 1 key, 1 referral import, 12 canned replies
    assert "28 entries checked" in ok.stdout
    with sqlite3.connect(fresh / "confide.db") as db:
        db.execute(
            'UPDATE audit_events SET detail = \'{"role":"admin","staff_id":1}\' WHERE id = 3'
        )
    broken = confide(fresh, "audit", "verify")
    assert broken.returncode == 1
    assert "entry 3" in broken.stderr
    with sqlite3.connect(fresh / "confide.db") as db:
        db.execute("DELETE FROM audit_events WHERE id >= 3")
        db.execute(
            "INSERT INTO audit_events (at, action, actor_label, detail, prev_hash, hash) "
            "SELECT at, action, actor_label, detail, prev_hash, hash || 'x' FROM audit_events WHERE id = 1"
        )
    assert confide(fresh, "audit", "verify").returncode == 1


def test_demo_seeds_teams_and_teams_import_is_all_or_nothing(fresh: Path) -> None:
    assert confide(fresh, "migrate").returncode == 0
    assert confide(fresh, "demo").returncode == 0
    assert confide(fresh, "demo").returncode == 0  # idempotent
    db = sqlite3.connect(fresh / "confide.db")
    referrals = [name for (name,) in db.execute("SELECT name FROM referral_resources")]
    assert "3919 Violences Femmes Info" in referrals
    assert len(referrals) == 10, "imported once: the second demo leaves the directory alone"
    teams = dict(db.execute("SELECT name, kind FROM teams").fetchall())
    assert set(teams.values()) == {"police", "gendarmerie", "national", "psychologists"}
    members = db.execute(
        "SELECT t.kind, s.username FROM team_members m JOIN teams t ON t.id = m.team_id "
        "JOIN staff_members s ON s.id = m.staff_id"
    ).fetchall()
    assert ("police", "officer") in members
    assert ("psychologists", "psychologist") in members
    bad = fresh / "bad.csv"
    bad.write_text(
        "name,kind,channels,departements\nCorse,police,domestic,2A 2B\nMars,police,domestic,00\n"
    )
    result = confide(fresh, "teams", "import", str(bad))
    assert result.returncode == 1
    assert "line 3:" in result.stderr
    assert "line 2" not in result.stderr
    assert db.execute("SELECT count(*) FROM teams WHERE name = 'Corse'").fetchone() == (0,)
    good = fresh / "good.csv"
    good.write_text("name,kind,channels,departements\nCorse,police,domestic,2A;2B\n")
    result = confide(fresh, "teams", "import", str(good))
    assert result.returncode == 0, result.stderr
    assert "Imported 1 team" in result.stdout
    coverage = db.execute(
        "SELECT departement FROM team_departements d JOIN teams t ON t.id = d.team_id "
        "WHERE t.name = 'Corse' ORDER BY departement"
    ).fetchall()
    assert coverage == [("2A",), ("2B",)]
    db.close()


def test_prosecutor_keys_init_rotate_and_purge(fresh: Path, tmp_path: Path) -> None:
    confide(fresh, "migrate")
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text("a long passphrase for tests\n")
    first = confide(fresh, "keys", "init-prosecutor", "--passphrase-file", str(passphrase_file))
    assert first.returncode == 0, first.stderr
    assert "key 1 created" in first.stdout
    again = confide(fresh, "keys", "init-prosecutor", "--passphrase-file", str(passphrase_file))
    assert again.returncode == 1
    assert "rotate" in again.stderr
    # Typed twice, without echo; a mismatch is asked again by the prompt.
    rotated = confide(
        fresh, "keys", "rotate-prosecutor", stdin="another passphrase\nanother passphrase\n"
    )
    assert rotated.returncode == 0, rotated.stderr
    assert "key 2 created" in rotated.stdout
    assert "another passphrase" not in rotated.stdout + rotated.stderr
    short = confide(fresh, "keys", "rotate-prosecutor", stdin="short\nshort\n")
    assert short.returncode == 1
    with sqlite3.connect(fresh / "confide.db") as db:
        rows = db.execute("SELECT id, retired_at IS NULL FROM prosecutor_keys").fetchall()
        blobs = b"".join(
            r[0] for r in db.execute("SELECT protected_private_key FROM prosecutor_keys")
        )
    assert rows == [(1, 0), (2, 1)]
    assert b"passphrase" not in blobs
    dry = confide(fresh, "purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("Would delete: 0 conversation(s)")
    assert confide(fresh, "purge").stdout.startswith("Deleted: 0 conversation(s)")
