"""casework: notes, flags, closing qualification (helper B)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_notes_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_members.id"],
            name=op.f("fk_conversation_notes_staff_id_staff_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_notes")),
    )
    with op.batch_alter_table("conversation_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_notes_conversation_id"), ["conversation_id"], unique=False
        )
    op.create_table(
        "conversation_outcomes",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("offence", sa.String(length=10), nullable=False),
        sa.Column("information", sa.Boolean(), nullable=False),
        sa.Column("referral", sa.Boolean(), nullable=False),
        sa.Column("guidance", sa.Boolean(), nullable=False),
        sa.Column("signalement", sa.Boolean(), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("handoff", sa.Boolean(), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_outcomes_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"],
            ["staff_members.id"],
            name=op.f("fk_conversation_outcomes_closed_by_staff_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_outcomes")),
    )
    with op.batch_alter_table("conversation_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_outcomes_closed_at"), ["closed_at"], unique=False
        )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("flags", sa.String(length=40), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("flags")
    with op.batch_alter_table("conversation_outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_outcomes_closed_at"))
    op.drop_table("conversation_outcomes")
    with op.batch_alter_table("conversation_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_notes_conversation_id"))
    op.drop_table("conversation_notes")
