"""Messages form a tree: a retried reply or an edited message is a sibling of the one before.

`parent`: the position of the message before this one on its branch (NULL: the first message).
`chosen`: this message is the active one among its siblings (the children of one parent, or
the first messages), so the active branch is found by following chosen children from the top.
A conversation stored before this revision is one branch: each message follows the one at the
position before it, and every message is chosen.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("parent", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("chosen", sa.Boolean, nullable=False, server_default=sa.true()))
    # Until now a conversation was its messages in position order: each follows the one before.
    op.execute(
        "UPDATE messages SET parent = (SELECT MAX(earlier.position) FROM messages AS earlier "
        "WHERE earlier.conversation_id = messages.conversation_id "
        "AND earlier.position < messages.position)"
    )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("chosen")
        batch.drop_column("parent")
