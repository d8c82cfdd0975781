"""Approval rules (the dialog's and the Rules page's; the policy file's stay in its file) and
the audit trail of every decision.

Revision ID: 0007
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "rules",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("tool_use_id", sa.String(200), nullable=False),
        sa.Column("server", sa.String(64), nullable=False),
        sa.Column("tool", sa.String(128), nullable=False),
        sa.Column("input", sa.JSON, nullable=True),
        sa.Column("edited_input", sa.JSON, nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(16), nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("latency_s", sa.Float, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
    )
    op.create_index("ix_audit_call", "audit", ["conversation_id", "tool_use_id"])
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_index("ix_audit_rule", "audit", ["rule_id"])


def downgrade() -> None:
    op.drop_table("audit")
    op.drop_table("rules")
