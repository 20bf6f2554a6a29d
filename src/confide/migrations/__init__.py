"""Alembic migrations, run programmatically (`confide migrate`), on SQLite or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from confide.db import Database

HERE = Path(__file__).parent


def alembic_config(database_url: str, secrets_file: Path | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", database_url)
    config.attributes["database_url"] = database_url
    # Data migrations that encrypt existing rows (0005) read the master key from here.
    config.attributes["secrets_file"] = secrets_file
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def revisions(db: Database) -> tuple[str | None, str | None]:
    """(revision the database is at, revision the code expects)."""

    def current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with db.engine.connect() as connection:
        at = await connection.run_sync(current)
    return at, head_revision()


def upgrade(database_url: str, revision: str = "head", *, secrets_file: Path | None = None) -> None:
    """Upgrade to `revision`. `secrets_file`: where the master key is (needed to encrypt rows
    that existed before encryption at rest)."""
    command.upgrade(alembic_config(database_url, secrets_file), revision)
