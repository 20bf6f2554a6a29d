"""encryption at rest: a wrapped data key per conversation; message bodies, hand-over notes and
the voluntary identity encrypted with it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

Existing rows are encrypted here, with the master key of the secrets file that `confide
migrate` passes (`config.attributes["secrets_file"]`). Idempotent per row: only conversations
without a data key are touched, so an interrupted run can be started again.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

from confide.security import crypto
from confide.settings import Secrets, load_secrets

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

conversations = sa.table(
    "conversations", sa.column("id", sa.String), sa.column("wrapped_key", sa.LargeBinary)
)
messages = sa.table(
    "messages",
    sa.column("id", sa.Integer),
    sa.column("conversation_id", sa.String),
    sa.column("body", sa.Text),
    sa.column("ciphertext", sa.LargeBinary),
)
transfers = sa.table(
    "conversation_transfers",
    sa.column("id", sa.Integer),
    sa.column("conversation_id", sa.String),
    sa.column("note", sa.Text),
    sa.column("note_ciphertext", sa.LargeBinary),
)
identities = sa.table(
    "voluntary_identities",
    sa.column("conversation_id", sa.String),
    sa.column("ciphertext", sa.LargeBinary),
)
#: Before this revision the identity was encrypted under a key derived for this purpose.
IDENTITY_PURPOSE = "identity"
DATA_VERSION = 1


def _secrets() -> Secrets:
    path: Path | None = context.config.attributes.get("secrets_file")
    if path is None:
        raise RuntimeError(
            "existing conversations must be encrypted with the master key: run `confide migrate`"
        )
    return load_secrets(Path(path))


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wrapped_key", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ciphertext", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("conversation_transfers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note_ciphertext", sa.LargeBinary(), nullable=True))

    _encrypt_existing(op.get_bind())

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column("wrapped_key", existing_type=sa.LargeBinary(), nullable=False)
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("ciphertext", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("body")
    with op.batch_alter_table("conversation_transfers", schema=None) as batch_op:
        batch_op.drop_column("note")


def _encrypt_existing(connection: sa.engine.Connection) -> None:
    ids = list(
        connection.scalars(
            sa.select(conversations.c.id).where(conversations.c.wrapped_key.is_(None))
        )
    )
    if not ids:
        return
    secrets = _secrets()
    master, version = secrets.master_key, secrets.master_version
    log.info("encrypting %d existing conversation(s)", len(ids))
    for conversation_id in ids:
        key = crypto.random_key()
        connection.execute(
            conversations.update()
            .where(conversations.c.id == conversation_id)
            .values(wrapped_key=crypto.wrap_key(master, key, version=version))
        )
        bodies = [
            {"row_id": row_id, "value": crypto.encrypt(key, body.encode(), version=DATA_VERSION)}
            for row_id, body in connection.execute(
                sa.select(messages.c.id, messages.c.body).where(
                    messages.c.conversation_id == conversation_id
                )
            )
        ]
        if bodies:
            connection.execute(
                messages.update()
                .where(messages.c.id == sa.bindparam("row_id"))
                .values(ciphertext=sa.bindparam("value")),
                bodies,
            )
        notes = [
            {"row_id": row_id, "value": crypto.encrypt(key, note.encode(), version=DATA_VERSION)}
            for row_id, note in connection.execute(
                sa.select(transfers.c.id, transfers.c.note).where(
                    transfers.c.conversation_id == conversation_id
                )
            )
            if note
        ]
        if notes:
            connection.execute(
                transfers.update()
                .where(transfers.c.id == sa.bindparam("row_id"))
                .values(note_ciphertext=sa.bindparam("value")),
                notes,
            )
        identity = connection.scalar(
            sa.select(identities.c.ciphertext).where(
                identities.c.conversation_id == conversation_id
            )
        )
        if identity is not None:
            try:
                old = crypto.derive_key(
                    secrets.master_keys[crypto.ciphertext_version(identity)],
                    IDENTITY_PURPOSE,
                    conversation_id,
                )
                plaintext = crypto.decrypt(old, identity)
            except (crypto.CryptoError, KeyError):
                log.error("a voluntary identity cannot be decrypted: left as it is")
                continue
            connection.execute(
                identities.update()
                .where(identities.c.conversation_id == conversation_id)
                .values(ciphertext=crypto.encrypt(key, plaintext, version=DATA_VERSION))
            )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body", sa.Text(), nullable=True))
    with op.batch_alter_table("conversation_transfers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))

    connection = op.get_bind()
    rows = list(connection.execute(sa.select(conversations.c.id, conversations.c.wrapped_key)))
    secrets = _secrets() if rows else None
    for conversation_id, wrapped in rows:
        assert secrets is not None
        master = secrets.master_keys[crypto.ciphertext_version(wrapped)]
        key = crypto.unwrap_key(master, wrapped)
        for row_id, ciphertext in connection.execute(
            sa.select(messages.c.id, messages.c.ciphertext).where(
                messages.c.conversation_id == conversation_id
            )
        ):
            connection.execute(
                messages.update()
                .where(messages.c.id == row_id)
                .values(body=crypto.decrypt(key, ciphertext).decode())
            )
        for row_id, ciphertext in connection.execute(
            sa.select(transfers.c.id, transfers.c.note_ciphertext).where(
                transfers.c.conversation_id == conversation_id,
                transfers.c.note_ciphertext.is_not(None),
            )
        ):
            connection.execute(
                transfers.update()
                .where(transfers.c.id == row_id)
                .values(note=crypto.decrypt(key, ciphertext).decode())
            )
        identity = connection.scalar(
            sa.select(identities.c.ciphertext).where(
                identities.c.conversation_id == conversation_id
            )
        )
        if identity is not None:
            derived = crypto.derive_key(secrets.master_key, IDENTITY_PURPOSE, conversation_id)
            connection.execute(
                identities.update()
                .where(identities.c.conversation_id == conversation_id)
                .values(
                    ciphertext=crypto.encrypt(
                        derived, crypto.decrypt(key, identity), version=secrets.master_version
                    )
                )
            )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("body", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("ciphertext")
    with op.batch_alter_table("conversation_transfers", schema=None) as batch_op:
        batch_op.drop_column("note_ciphertext")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("wrapped_key")
