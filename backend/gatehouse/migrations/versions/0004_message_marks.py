"""Messages keep why a reply ended short and which messages the person never wrote.

`stop_reason`: Claude's `max_tokens` (cut: the UI offers Continue) or `refusal` (declined) on
the assistant message it ended, so the marks survive a reload and a restart. `hidden`: a user
message Gatehouse wrote for Claude (asking it to go on with a cut reply, for a model that
refuses a prefill); Claude sees it, the person's history does not.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("stop_reason", sa.String(16), nullable=True))
        batch.add_column(sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("hidden")
        batch.drop_column("stop_reason")
