"""read state: how far each side of a conversation has read

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("visitor_read_seq", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("staff_read_seq", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("staff_read_seq")
        batch.drop_column("visitor_read_seq")
