"""Messages keep their usage (tokens and cost) and their attachments' names.

`usage` is the JSON of `gatehouse.usage.Usage` for an assistant message (null before this
version, or when Claude reported none); `attachments` lists, for a person's message, the name,
media type and size of each image or document block in its content, in order.

Revision ID: 0006
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("usage", sa.JSON, nullable=True))
        batch.add_column(sa.Column("attachments", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("attachments")
        batch.drop_column("usage")
