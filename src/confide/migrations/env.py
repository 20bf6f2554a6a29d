from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import confide.audit.models
import confide.casework.models
import confide.conversations.models
import confide.disclosure.models
import confide.handoff.models
import confide.referrals.models
import confide.replies.models
import confide.routing.models
import confide.signalements.models
import confide.staff.models  # noqa: F401  (register the tables)
from confide.db import Base

config = context.config
target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def main() -> None:
    url: str = (
        config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url") or ""
    )
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported")
asyncio.run(main())
