"""Tool calls: one set of status names (gatehouse.tool_call.ToolCallStatus) and who decided.

The older names map as: refused → invalid, ok → done, error → failed, timeout → expired
(decided by the deadline, like an approval that expired during a restart), cancelled →
interrupted (decided by a stop). pending, approved, denied, expired, running and interrupted
keep their names. The stored tool_result, what Claude is told, is not touched.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

# old name → (new name, decided_by); None keeps the name
_RENAMED: dict[str, tuple[str, str | None]] = {
    "refused": ("invalid", "screening"),
    "ok": ("done", "tool"),
    "error": ("failed", "tool"),
    "timeout": ("expired", "deadline"),
    "cancelled": ("interrupted", "stop"),
    "expired": ("expired", "deadline"),
    "denied": ("denied", "person"),
    "interrupted": ("interrupted", "restart"),
}
# Where the old names were ambiguous, the downgrade picks the likelier one.
_RESTORED: dict[tuple[str, str | None], str] = {
    ("invalid", "screening"): "refused",
    ("done", "tool"): "ok",
    ("failed", "tool"): "error",
    ("expired", "deadline"): "timeout",
    ("interrupted", "stop"): "cancelled",
}

_calls = sa.table("tool_calls", sa.column("status", sa.String), sa.column("decided_by", sa.String))


def upgrade() -> None:
    with op.batch_alter_table("tool_calls") as batch:
        batch.add_column(sa.Column("decided_by", sa.String(16), nullable=True))
    for old, (new, decided_by) in _RENAMED.items():
        op.execute(  # a row already renamed has its decider: it is not renamed twice
            _calls.update()
            .where(_calls.c.status == old, _calls.c.decided_by.is_(None))
            .values(status=new, decided_by=decided_by)
        )


def downgrade() -> None:
    for (new, decided_by), old in _RESTORED.items():
        op.execute(
            _calls.update()
            .where(_calls.c.status == new, _calls.c.decided_by == decided_by)
            .values(status=old)
        )
    for new, old in (("invalid", "refused"), ("done", "ok"), ("failed", "error")):
        op.execute(_calls.update().where(_calls.c.status == new).values(status=old))
    with op.batch_alter_table("tool_calls") as batch:
        batch.drop_column("decided_by")
