"""File versions: what each built-in write, undo and restore replaced, and with what.

Revision ID: 0008
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def _state(side: str) -> list[sa.Column[object]]:
    return [
        sa.Column(f"{side}_hash", sa.String(64), nullable=True),  # None: no file there
        sa.Column(f"{side}_size", sa.BigInteger, nullable=True),
        sa.Column(f"{side}_kept", sa.Boolean, nullable=False),  # False: too large to keep
    ]


def upgrade() -> None:
    op.create_table(
        "file_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("path_key", sa.String(64), nullable=False, index=True),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.Column("turn", sa.BigInteger, nullable=True),
        sa.Column("tool_use_id", sa.String(200), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        *_state("before"),
        *_state("after"),
        sa.Column("created_at", sa.Float, nullable=False, index=True),
        sa.Column("undone_by", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_file_versions_call", "file_versions", ["conversation_id", "tool_use_id"])
    op.create_index("ix_file_versions_turn", "file_versions", ["conversation_id", "turn"])


def downgrade() -> None:
    op.drop_table("file_versions")
