"""console presence per node, so a dead node's consoles can be expired

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_presence",
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("connections", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_members.id"],
            name=op.f("fk_console_presence_staff_id_staff_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("node_id", "staff_id", name=op.f("pk_console_presence")),
    )
    # Consoles counted before this version cannot be traced to a node: start from zero (open
    # consoles reconnect and count again).
    op.execute("UPDATE officer_states SET connections = 0")


def downgrade() -> None:
    op.drop_table("console_presence")
