"""Sequence numbers and positions as 64-bit integers; conversations remember compaction.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

_WIDENED = {
    "frames": ("first_seq", "last_seq"),
    "messages": ("position",),
    "tool_calls": ("position",),
}


def upgrade() -> None:
    for table, columns in _WIDENED.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=sa.BigInteger, existing_type=sa.Integer)
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("compacted_seq", sa.BigInteger, nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("compacted_seq")
    for table, columns in _WIDENED.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=sa.Integer, existing_type=sa.BigInteger)
