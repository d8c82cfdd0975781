"""The index of file versions in the database (table `file_versions`, migration 0008).

One row per change Gatehouse made to a workspace file: a built-in tool's write (`tool`), an
undo (`undo`), a redo (`redo`) or a restore from the Files panel (`restore`). A row holds the
file's state before and after (its SHA-256, size, and whether the content was kept as a blob),
and who made it: the conversation, the turn (the history position of the person's message the
reply answers) and the tool call. The blobs themselves are in `blob_store`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse.store import Store, conversations, metadata

Source = Literal["tool", "undo", "redo", "restore"]


def _state(side: str) -> list[Column[Any]]:
    return [
        Column(f"{side}_hash", String(64), nullable=True),
        Column(f"{side}_size", BigInteger, nullable=True),
        Column(f"{side}_kept", Boolean, nullable=False),
    ]


file_versions = Table(
    "file_versions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("path", Text, nullable=False),
    Column("path_key", String(64), nullable=False, index=True),  # paths may be 4 KB long
    Column("conversation_id", String(64), nullable=True),
    Column("turn", BigInteger, nullable=True),
    Column("tool_use_id", String(200), nullable=True),
    Column("source", String(16), nullable=False),
    *_state("before"),
    *_state("after"),
    Column("created_at", Float, nullable=False, index=True),
    Column("undone_by", BigInteger, nullable=True),
)


@dataclass(frozen=True)
class FileState:
    """A file at one moment: `hash` None means there was no file."""

    hash: str | None
    size: int | None = None
    kept: bool = True  # False: larger than VERSION_MAX_BYTES, so only its hash is known

    @property
    def exists(self) -> bool:
        return self.hash is not None

    def as_json(self) -> dict[str, Any]:
        return {"exists": self.exists, "hash": self.hash, "size": self.size, "kept": self.kept}


ABSENT = FileState(None, None, True)


@dataclass(frozen=True)
class Origin:
    """Who made a change: a call of a conversation's turn, or nobody (the Files panel)."""

    conversation_id: str | None = None
    turn: int | None = None
    tool_use_id: str | None = None


@dataclass(frozen=True)
class Version:
    id: int
    path: str
    origin: Origin
    source: Source
    before: FileState
    after: FileState
    created_at: float
    undone_by: int | None


def path_key(path: str) -> str:
    return hashlib.sha256(path.encode("utf-8", "surrogatepass")).hexdigest()


class VersionIndex:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def add(
        self, path: str, origin: Origin, source: Source, before: FileState, after: FileState
    ) -> Version:
        now = time.time()
        values = {
            "path": path,
            "path_key": path_key(path),
            "conversation_id": origin.conversation_id,
            "turn": origin.turn,
            "tool_use_id": origin.tool_use_id,
            "source": source,
            **_state_values("before", before),
            **_state_values("after", after),
            "created_at": now,
        }

        async def step(connection: AsyncConnection) -> int:
            statement = insert(file_versions).values(**values).returning(file_versions.c.id)
            return int((await connection.execute(statement)).scalar_one())

        version_id = int(await self._store.write(step))
        return Version(version_id, path, origin, source, before, after, now, None)

    async def mark_undone(self, ids: Sequence[int], by: int | None) -> None:
        statement = update(file_versions).where(file_versions.c.id.in_(ids)).values(undone_by=by)

        async def step(connection: AsyncConnection) -> None:
            await connection.execute(statement)

        await self._store.write(step)

    async def get(self, version_id: int) -> Version | None:
        rows = await self._select(file_versions.c.id == version_id)
        return rows[0] if rows else None

    async def of_call(self, conversation_id: str, tool_use_id: str) -> list[Version]:
        return await self._select(
            file_versions.c.conversation_id == conversation_id,
            file_versions.c.tool_use_id == tool_use_id,
        )

    async def of_turn(self, conversation_id: str, turn: int) -> list[Version]:
        return await self._select(
            file_versions.c.conversation_id == conversation_id, file_versions.c.turn == turn
        )

    async def of_conversation(self, conversation_id: str) -> list[Version]:
        return await self._select(file_versions.c.conversation_id == conversation_id)

    async def of_path(self, path: str, limit: int = 1000) -> list[Version]:
        """Newest first."""
        return await self._select(
            file_versions.c.path_key == path_key(path), newest_first=True, limit=limit
        )

    async def latest_by_path(self) -> dict[str, Version]:
        """The newest version of every path the index knows."""
        newest = (
            select(func.max(file_versions.c.id))
            .group_by(file_versions.c.path_key)
            .scalar_subquery()
        )
        rows = await self._select(file_versions.c.id.in_(newest))
        return {row.path: row for row in rows}

    async def titles(self, conversation_ids: Iterable[str]) -> dict[str, str]:
        query = select(conversations.c.id, conversations.c.title).where(
            conversations.c.id.in_(set(conversation_ids))
        )
        async with self._store.connect() as connection:
            return {row.id: row.title for row in await connection.execute(query)}

    async def prune(
        self, *, older_than: float | None, keep_per_path: int | None, path: str | None = None
    ) -> set[str]:
        """Delete the rows past the retention limits; the blob names they referred to."""
        doomed: list[Version] = []
        if older_than is not None:
            doomed += await self._select(file_versions.c.created_at < older_than)
        if keep_per_path is not None:
            doomed += await self._beyond_newest(keep_per_path, path)
        if not doomed:
            return set()
        ids = sorted({row.id for row in doomed})
        statement = delete(file_versions).where(file_versions.c.id.in_(ids))

        async def step(connection: AsyncConnection) -> None:
            await connection.execute(statement)

        await self._store.write(step)
        return {h for row in doomed for h in (row.before.hash, row.after.hash) if h}

    async def referenced(self, names: Iterable[str]) -> set[str]:
        """Those of `names` a row still refers to."""
        wanted = sorted(set(names))
        found: set[str] = set()
        async with self._store.connect() as connection:
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                for side in ("before_hash", "after_hash"):
                    column = file_versions.c[side]
                    query = select(column).where(column.in_(part)).distinct()
                    found.update(value for (value,) in await connection.execute(query))
        return found

    async def _beyond_newest(self, keep: int, path: str | None) -> list[Version]:
        if path is not None:
            return (await self.of_path(path, limit=1_000_000))[keep:]
        crowded = (
            select(file_versions.c.path_key)
            .group_by(file_versions.c.path_key)
            .having(func.count() > keep)
        )
        async with self._store.connect() as connection:
            keys = [key for (key,) in await connection.execute(crowded)]
        doomed: list[Version] = []
        for key in keys:
            rows = await self._select(
                file_versions.c.path_key == key, newest_first=True, limit=1_000_000
            )
            doomed += rows[keep:]
        return doomed

    async def _select(
        self, *where: Any, newest_first: bool = False, limit: int | None = None
    ) -> list[Version]:
        order = file_versions.c.id.desc() if newest_first else file_versions.c.id
        query = select(file_versions).where(*where).order_by(order)
        if limit is not None:
            query = query.limit(limit)
        async with self._store.connect() as connection:
            return [_version(row) for row in await connection.execute(query)]


def _state_values(side: str, state: FileState) -> dict[str, Any]:
    return {f"{side}_hash": state.hash, f"{side}_size": state.size, f"{side}_kept": state.kept}


def _version(row: Any) -> Version:
    return Version(
        id=row.id,
        path=row.path,
        origin=Origin(row.conversation_id, row.turn, row.tool_use_id),
        source=row.source,
        before=FileState(row.before_hash, row.before_size, row.before_kept),
        after=FileState(row.after_hash, row.after_size, row.after_kept),
        created_at=row.created_at,
        undone_by=row.undone_by,
    )
