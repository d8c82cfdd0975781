"""Search, pins and who named a conversation.

`search_entries` holds each message's text and each title (gatehouse.search); SQLite indexes
it with an FTS5 table kept in sync by triggers, PostgreSQL with a GIN index on its tsvector.
Existing conversations are indexed here. `conversations.pinned` sorts a conversation first;
`titled_by` says whether the title is the first words (`words`), Claude's (`claude`) or the
person's (`person`), so a generated title never replaces one the person chose.

Revision ID: 0009
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gatehouse.search import TITLE_POSITION, indexed_text

revision = "0009"
down_revision = "0008"

_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_entries', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN "
    "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END",
]
_POSTGRES_INDEX = (
    "CREATE INDEX ix_search_entries_body ON search_entries USING gin (to_tsvector('simple', body))"
)
_BACKFILL_BATCH = 500


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(
            sa.Column("titled_by", sa.String(16), nullable=False, server_default="words")
        )
    op.create_table(
        "search_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),  # SQLite: the FTS rowid
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("conversation_id", "position", name="uq_search_entries_place"),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_FTS:
            op.execute(statement)
    else:
        op.execute(_POSTGRES_INDEX)
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    entries = sa.table(
        "search_entries",
        sa.column("conversation_id", sa.String),
        sa.column("position", sa.BigInteger),
        sa.column("body", sa.Text),
    )
    titles = bind.execute(sa.text("SELECT id, title FROM conversations WHERE title != ''"))
    rows = [
        {"conversation_id": cid, "position": TITLE_POSITION, "body": title} for cid, title in titles
    ]
    if rows:
        bind.execute(entries.insert(), rows)
    messages = sa.table(
        "messages",
        sa.column("conversation_id", sa.String),
        sa.column("position", sa.BigInteger),
        sa.column("content", sa.JSON),
    )
    batch: list[dict[str, object]] = []
    for cid, position, content in bind.execute(sa.select(messages)):
        if text := indexed_text(content).strip():
            batch.append({"conversation_id": cid, "position": position, "body": text})
        if len(batch) >= _BACKFILL_BATCH:
            bind.execute(entries.insert(), batch)
            batch = []
    if batch:
        bind.execute(entries.insert(), batch)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("search_entries_ai", "search_entries_ad", "search_entries_au"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE search_fts")
    op.drop_table("search_entries")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("titled_by")
        batch.drop_column("pinned")
