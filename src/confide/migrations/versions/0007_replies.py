"""replies: canned replies (helper A)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["staff_members.id"],
            name=op.f("fk_canned_replies_updated_by_staff_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_replies")),
    )
    with op.batch_alter_table("canned_replies", schema=None) as batch_op:
        batch_op.create_index("ix_canned_replies_lang_channel", ["lang", "channel"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("canned_replies", schema=None) as batch_op:
        batch_op.drop_index("ix_canned_replies_lang_channel")
    op.drop_table("canned_replies")
