"""reports: signalements (helper D)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signalements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("author_staff_id", sa.Integer(), nullable=False),
        sa.Column("unit_name", sa.String(length=200), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("urgency", sa.String(length=12), nullable=False),
        sa.Column("visitor_agreed_contact", sa.Boolean(), nullable=False),
        sa.Column("facts_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("contact_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_staff_id"],
            ["staff_members.id"],
            name=op.f("fk_signalements_author_staff_id_staff_members"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_signalements_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signalements")),
    )
    with op.batch_alter_table("signalements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signalements_conversation_id"), ["conversation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("signalements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signalements_conversation_id"))
    op.drop_table("signalements")
