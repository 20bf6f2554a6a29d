"""`confide demo` seeds a few canned replies, in French and English, once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from confide.replies.demo import DEMO_REPLIES
from tests.test_cli import confide


def test_demo_seeds_canned_replies_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    assert confide(data_dir, "migrate").returncode == 0
    assert confide(data_dir, "demo").returncode == 0
    assert confide(data_dir, "demo").returncode == 0  # idempotent
    db = sqlite3.connect(data_dir / "confide.db")
    rows = db.execute("SELECT title, channel, lang, body FROM canned_replies").fetchall()
    assert len(rows) == len(DEMO_REPLIES)
    assert {lang for _, _, lang, _ in rows} == {"fr", "en"}
    assert {channel for _, channel, _, _ in rows} == {"all", "domestic", "sexual", "discrimination"}
    safety = [body for title, _, lang, body in rows if lang == "fr" and "sécurité" in title]
    assert len(safety) == 1
    assert "17" in safety[0]
    assert "114" in safety[0]
    audited = db.execute(
        "SELECT count(*) FROM audit_events WHERE action = 'reply.changed' AND actor_label = 'cli'"
    ).fetchone()
    assert audited == (len(DEMO_REPLIES),)
