"""Durable state: conversations, their messages, tool calls, and the log of server frames.

SQLAlchemy 2 (async) over SQLite by default or PostgreSQL by URL; the schema is created by
Alembic migrations at start-up. Messages are stored as Anthropic content blocks so history is
replayed to Claude exactly.

Every write goes through one writer task that group-commits: frames are appended from the hot
path without waiting and written once `FRAME_BATCH_WINDOW_S` after the first of them (or at a
`flush`, as before a resume reads them); a message, conversation or tool-call write is awaited
by its caller and committed at once, without the frames, which keep their window (a row per
conversation per window, not per write). Under load many writes share one transaction instead
of queueing for SQLite's single connection one transaction each.
When a shared transaction fails, each part is retried alone, so a bad frame row or write costs
only its own conversation or caller; the writer outlives any error and fails only the writes it
held when one escapes.

A conversation's frames of ended turns are compacted away once nobody can need them for resume
(`compact_frames`): its messages remain the history, and `conversations.compacted_seq` keeps
its numbering from going back.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

import orjson
import structlog
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    event,
    false,
    func,
    insert,
    select,
    text,
    true,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from gatehouse import metrics
from gatehouse.branches import Tree
from gatehouse.conversation_settings import Choices
from gatehouse.search import TITLE_POSITION, indexed_text, query_terms
from gatehouse.search_query import SearchHit, find
from gatehouse.tool_call import DecidedBy, ToolCallStatus

JsonDict = dict[str, Any]
log = structlog.get_logger(__name__)

NO_CHOICES = Choices()  # a conversation that chose nothing: the defaults
# At most two frame-log transactions a second per process: a row then holds ~5 chunks of a
# reply, where 0.1 s wrote a row per chunk (steady CPU per chunk -24%, bench/results/FINDINGS.md).
# Resume flushes first; only a crash can lose the last window of frames, of a reply that the
# restart marks interrupted anyway.
FRAME_BATCH_WINDOW_S = 0.5
IDLE_COMPACTIONS_PER_WRITE = 200  # conversations compacted in one transaction
MIGRATION_LOCK = 0x6761_7465  # PostgreSQL advisory lock held while one process migrates

metadata = MetaData()

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("locale", String(8), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False, index=True),
    Column("compacted_seq", BigInteger, nullable=False, server_default="0"),  # frames ≤ it: gone
    # The conversation's own choices (conversation_settings.Choices); NULL: the default.
    Column("model", String(200), nullable=True),
    Column("thinking", Boolean, nullable=True),
    Column("pinned", Boolean, nullable=False, server_default=false()),
    Column("titled_by", String(16), nullable=False, server_default="words"),  # a TitledBy
)
messages = Table(
    "messages",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("role", String(16), nullable=False),
    Column("content", JSON, nullable=False),
    Column("stopped", Boolean, nullable=False),
    Column("usage", JSON, nullable=True),  # an assistant message's Usage.to_json()
    Column("attachments", JSON, nullable=True),  # a person's message: [{name, media_type, bytes}]
    Column("stop_reason", String(16), nullable=True),  # max_tokens or refusal: the person sees it
    Column("hidden", Boolean, nullable=False, server_default=false()),  # written for Claude only
    # The branches (gatehouse.branches, migration 0010): the message before this one on its
    # branch (NULL: a first message), and whether it is the active one among its siblings.
    Column("parent", BigInteger, nullable=True),
    Column("chosen", Boolean, nullable=False, server_default=true()),
)
tool_calls = Table(
    "tool_calls",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("id", String(200), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("name", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("request_frame", Text, nullable=True),
    Column("result", JSON, nullable=True),
    Column("requested_at", Float, nullable=False),
    Column("expires_at", Float, nullable=True),
    Column("decided_at", Float, nullable=True),
    Column("decided_by", String(16), nullable=True),  # a DecidedBy, once the status is final
)
frames = Table(  # one row per write batch and conversation: frames first_seq..last_seq
    "frames",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("first_seq", BigInteger, primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("body", Text, nullable=False),  # the frames' JSON texts, one a line
)


search_entries = Table(  # what search finds: gatehouse.search, migration 0009
    "search_entries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("conversation_id", String(64), nullable=False),
    Column("position", BigInteger, nullable=False),  # a message's, or TITLE_POSITION
    Column("body", Text, nullable=False),
    UniqueConstraint("conversation_id", "position", name="uq_search_entries_place"),
)

FrameRow = tuple[str, int, int, str]  # conversation_id, first_seq, last_seq, body
ListCursor = tuple[bool, float, str]  # pinned, updated_at, id of a page's last row


class Linear(Enum):
    BEFORE = "before"  # a message follows the one at the position before it


class TitledBy(StrEnum):
    WORDS = "words"  # the first words of the first message
    CLAUDE = "claude"
    PERSON = "person"


@dataclass(frozen=True)
class StoredToolCall:
    id: str
    position: int
    name: str
    status: ToolCallStatus
    request_frame: str | None  # the tool_request's data, as JSON
    result: JsonDict | None
    expires_at: float | None
    decided_by: DecidedBy | None = None


@dataclass(frozen=True)
class StoredConversation:
    id: str
    title: str
    locale: str
    created_at: float
    updated_at: float
    last_seq: int
    compacted_seq: int  # frames up to it were compacted: a resume from before gets the history
    history: list[JsonDict]
    stopped: list[bool]
    tool_calls: list[StoredToolCall]
    usage: list[JsonDict | None] = field(default_factory=lambda: list[JsonDict | None]())
    attachments: list[list[JsonDict]] = field(default_factory=lambda: list[list[JsonDict]]())
    stop_reasons: list[str | None] = field(default_factory=lambda: list[str | None]())
    hidden: list[bool] = field(default_factory=lambda: list[bool]())
    choices: Choices = NO_CHOICES
    pinned: bool = False
    titled_by: str = "words"
    # `history` and the lists beside it are the active branch; these are its messages'
    # positions, and the tree holds every branch.
    positions: list[int] = field(default_factory=lambda: list[int]())
    tree: Tree = field(default_factory=Tree)


WriteStep = Callable[[AsyncConnection], Awaitable[Any]]

# Never swallowed by the writer: cancellation (shutdown) and the interpreter's own exits.
_FATAL = (asyncio.CancelledError, KeyboardInterrupt, SystemExit)


class StoreWriteError(Exception):
    """A write could not be committed, or the store is closed."""


@dataclass
class _Write:
    """One caller's statements, run inside the writer's transaction; `done` gets their result
    (or error) once that transaction commits."""

    step: WriteStep
    done: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


def database_url(url: str) -> str:
    """Accept plain `sqlite:///` and `postgresql://` URLs and pick the async drivers."""
    parsed = make_url(url)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
    backend = parsed.get_backend_name()
    if backend in driver and parsed.drivername in ("sqlite", "postgresql", "postgres"):
        parsed = parsed.set(drivername=driver[backend])
    return parsed.render_as_string(hide_password=False)


class Store:
    def __init__(
        self, engine: AsyncEngine, reads: AsyncEngine, *, frames_as_json: bool = False
    ) -> None:
        self._engine = engine  # the writer's transactions
        self._reads = reads  # the engine itself on SQLite (_reads_engine_for)
        self._frames_as_json = frames_as_json  # SQLite with JSON: see _insert_frames
        self._pending_frames: dict[str, list[tuple[int, str]]] = {}
        self._pending_writes: list[_Write] = []
        self._wake = asyncio.Event()
        self._urgent = asyncio.Event()  # an awaited write is waiting: commit it now
        self._frames_due: float | None = None  # when the pending frames' window ends
        self._flushing = 0  # callers of flush(): the frames go now too
        self._flushed = asyncio.Event()
        self._writing = False
        self._cycles = 0  # writer cycles ended: a flush waits for at most two more
        self._in_flight: set[str] = set()  # conversations whose frames are being committed
        self._writer: asyncio.Task[None] | None = None
        self._insert_frames_sql = str(insert(frames).compile(dialect=engine.dialect))

    @classmethod
    async def open(cls, url: str) -> Store:
        full_url = database_url(url)
        engine = _engine_for(full_url)
        async with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                # Workers starting together on a new database migrate one after another
                # (the lock is the transaction's: the next one in finds the schema current).
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            await connection.run_sync(_upgrade_schema)
            frames_as_json = engine.dialect.name == "sqlite" and await _sqlite_has_json(connection)
        store = cls(engine, _reads_engine_for(engine), frames_as_json=frames_as_json)
        store._writer = asyncio.create_task(store._write_frames(), name="frame-log")
        return store

    async def close(self) -> None:
        while self._unwritten(None):  # nothing adds more now: all of it lands
            await self.flush()
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
        _fail_all(self._pending_writes)
        await self._engine.dispose()
        if self._reads is not self._engine:
            await self._reads.dispose()

    def connect(self) -> AsyncConnection:
        """A connection for reads (`async with store.connect() as connection:`)."""
        return self._reads.connect()

    async def ping(self) -> bool:
        async with self._reads.connect() as connection:
            return (await connection.execute(select(1))).scalar() == 1

    # ── the frame log ───────────────────────────────────────────────────────────────────────
    def log_frame(self, conversation_id: str, seq: int, body: str) -> None:
        self._pending_frames.setdefault(conversation_id, []).append((seq, body))
        if self._frames_due is None:
            self._frames_due = asyncio.get_running_loop().time() + FRAME_BATCH_WINDOW_S
            self._wake.set()

    async def flush(self, conversation_id: str | None = None) -> None:
        """Wait until every frame logged so far (only `conversation_id`'s, when given) and
        every write submitted so far is committed; the frames' window is cut short.

        Frames logged after the call are not waited for: under a steady stream of them a
        flush ends after the cycle that takes its frames (two when one is under way)."""
        target = self._cycles + (2 if self._writing else 1)
        self._flushing += 1
        try:
            while self._cycles < target and self._unwritten(conversation_id):
                self._urgent.set()
                self._wake.set()
                self._flushed.clear()
                await self._flushed.wait()
        finally:
            self._flushing -= 1

    def _unwritten(self, conversation_id: str | None) -> bool:
        if self._pending_writes:
            return True
        if conversation_id is None:
            return bool(self._pending_frames) or self._wake.is_set() or self._writing
        return conversation_id in self._pending_frames or conversation_id in self._in_flight

    async def write(self, step: WriteStep) -> Any:
        """Run `step` in the writer's next transaction; return its result once committed.

        An error of the step fails this caller only (`StoreWriteError` when it is not an
        `Exception`)."""
        if self._writer is not None and self._writer.done():
            raise StoreWriteError("the store is closed")
        write = _Write(step)
        self._pending_writes.append(write)
        self._urgent.set()
        self._wake.set()
        # The write is queued and will land even if this caller is cancelled meanwhile.
        return await asyncio.shield(write.done)

    async def _write_frames(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._writing = True
            if not self._pending_writes and self._frames_due is not None:
                # Let a streaming reply pile up a few frames: one row for many chunks.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout_at(self._frames_due):
                        await self._urgent.wait()
            self._wake.clear()
            self._urgent.clear()
            batch: dict[str, list[tuple[int, str]]] = {}
            due = self._frames_due
            if due is not None and (self._flushing or loop.time() >= due):
                batch, self._pending_frames, self._frames_due = self._pending_frames, {}, None
                self._in_flight = set(batch)
            elif due is not None:  # a write cut the window short: the frames wait for its end
                self._wake.set()
            writes, self._pending_writes = self._pending_writes, []
            try:
                if batch or writes:
                    await self._commit(_frame_rows(batch), writes)
            except _FATAL:
                _fail_all(writes)
                raise
            except BaseException:  # a bug of ours: fail what we hold, keep serving
                log.exception("store_writer_failed", writes=len(writes))
                metrics.STORE_WRITER_ERRORS_TOTAL.inc()
                _fail_all(writes, StoreWriteError("the write failed"))
            finally:
                self._writing = False
                self._in_flight = set()
                self._cycles += 1
                self._flushed.set()

    async def _commit(self, rows: list[FrameRow], writes: list[_Write]) -> None:
        """One transaction for the whole batch; if it fails, each part alone, so one bad row
        or write fails only its own conversation or caller."""
        try:
            results: list[Any] = []
            async with self._engine.begin() as connection:
                if rows:
                    await self._insert_frames(connection, rows)
                for write in writes:
                    results.append(await write.step(connection))
        except _FATAL:
            raise
        except BaseException:
            await self._insert_frames_one_by_one(rows)
            await self._commit_one_by_one(writes)
            return
        for write, result in zip(writes, results, strict=True):
            _settle(write.done, result=result)

    async def _insert_frames_one_by_one(self, rows: list[FrameRow]) -> None:
        if not rows:
            return
        with contextlib.suppress(Exception):  # all at once: the failure may have been a write's
            async with self._engine.begin() as connection:
                await self._insert_frames(connection, rows)
            return
        for row in rows:  # the rows themselves fail: find the bad one, keep every other one
            try:
                async with self._engine.begin() as connection:
                    await self._insert_frames(connection, [row])
            except Exception:  # the chat goes on; only resume past these frames is lost
                log.exception(
                    "frame_log_row_dropped", conversation=row[0], first_seq=row[1], last_seq=row[2]
                )
                metrics.FRAME_ROWS_DROPPED_TOTAL.inc()

    async def _commit_one_by_one(self, writes: list[_Write]) -> None:
        for write in writes:
            try:
                async with self._engine.begin() as connection:
                    result = await write.step(connection)
            except _FATAL:
                raise
            except Exception as exc:
                _settle(write.done, error=exc)
            except BaseException as exc:  # not ours to re-raise in the writer: tell the caller
                _settle(write.done, error=StoreWriteError(f"the write failed: {exc!r}"))
            else:
                _settle(write.done, result=result)

    async def _insert_frames(self, connection: AsyncConnection, rows: list[FrameRow]) -> None:
        if self._frames_as_json:
            # One statement for the whole batch. The SQLite driver takes the GIL back for every
            # row of an executemany, and with a thousand rows a batch those hand-offs stalled
            # the event loop (bench/results/FINDINGS.md); this way the insert runs without it.
            body = orjson.dumps(rows).decode()
            await connection.exec_driver_sql(_SQLITE_INSERT_FRAMES_FROM_JSON, (body,))
        else:
            await connection.exec_driver_sql(self._insert_frames_sql, rows)

    async def frames_after(self, conversation_id: str, seq: int) -> list[tuple[int, str]]:
        await self.flush(conversation_id)
        query = (
            select(frames.c.first_seq, frames.c.body)
            .where(frames.c.conversation_id == conversation_id, frames.c.last_seq > seq)
            .order_by(frames.c.first_seq)
        )
        async with self._reads.connect() as connection:
            rows = list(await connection.execute(query))
        numbered = (
            (row.first_seq + n, body) for row in rows for n, body in enumerate(row.body.split("\n"))
        )
        return [(number, body) for number, body in numbered if number > seq]

    async def compact_frames(self, conversation_id: str, through_seq: int) -> None:
        """Drop the conversation's frames up to `through_seq` (turns that have ended), and
        remember that number so the numbering never goes back and a resume from before it is
        answered with the history."""

        async def step(connection: AsyncConnection) -> None:
            await _compact(connection, conversation_id, through_seq)

        self._drop_pending_frames(conversation_id, through_seq)  # never written: none to delete
        await self.write(step)

    async def compact_idle(self, before: float, open_turns: Collection[str] = ()) -> int:
        """Compact every conversation unchanged since `before` (a `time.time()`) that still has
        logged frames, but those in `open_turns`; returns how many were compacted.

        With several workers no process knows when nobody can resume from a conversation's
        frames any more (one process knows: the conversation leaves its memory). A conversation
        left alone that long has only ended turns, and a client back after it gets the history."""
        found = (
            select(frames.c.conversation_id, func.max(frames.c.last_seq))
            .join(conversations, conversations.c.id == frames.c.conversation_id)
            .where(conversations.c.updated_at < before)
            .group_by(frames.c.conversation_id)
            .limit(IDLE_COMPACTIONS_PER_WRITE)
        )
        if open_turns:
            found = found.where(frames.c.conversation_id.not_in(list(open_turns)))
        async with self._reads.connect() as connection:
            due = [(row[0], int(row[1])) for row in await connection.execute(found)]

        async def step(connection: AsyncConnection) -> None:
            for conversation_id, through_seq in due:
                await _compact(connection, conversation_id, through_seq)

        if due:
            await self.write(step)
        return len(due)

    async def compacted_seq(self, conversation_id: str) -> int:
        """The stored conversation's compacted seq (another worker may have raised it)."""
        query = select(conversations.c.compacted_seq).where(conversations.c.id == conversation_id)
        async with self._reads.connect() as connection:
            return int((await connection.execute(query)).scalar() or 0)

    def _drop_pending_frames(self, conversation_id: str, through_seq: int) -> None:
        pending = self._pending_frames.pop(conversation_id, [])
        kept = [(seq, body) for seq, body in pending if seq > through_seq]
        if kept:
            self._pending_frames[conversation_id] = kept

    # ── conversations ───────────────────────────────────────────────────────────────────────
    async def create_conversation(
        self, conversation_id: str, locale: str, choices: Choices = NO_CHOICES
    ) -> None:
        now = time.time()
        row = {
            "id": conversation_id,
            "title": "",
            "locale": locale,
            "model": choices.model,
            "thinking": choices.thinking,
        }
        query = insert(conversations).values(**row, created_at=now, updated_at=now)

        async def step(connection: AsyncConnection) -> None:
            await connection.execute(query)

        await self.write(step)

    async def save_choices(self, conversation_id: str, choices: Choices) -> None:
        query = (
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(model=choices.model, thinking=choices.thinking)
        )

        async def step(connection: AsyncConnection) -> None:
            await connection.execute(query)

        await self.write(step)

    async def load_conversation(self, conversation_id: str) -> StoredConversation | None:
        await self.flush(conversation_id)  # its numbering goes on from the last frame
        last_frame = (
            select(func.max(frames.c.last_seq))
            .where(frames.c.conversation_id == conversation_id)
            .scalar_subquery()
        )
        async with self._reads.connect() as connection:
            head = (
                await connection.execute(
                    select(conversations, last_frame.label("last_frame")).where(
                        conversations.c.id == conversation_id
                    )
                )
            ).first()
            if head is None:
                return None
            rows = await connection.execute(
                select(messages)
                .where(messages.c.conversation_id == conversation_id)
                .order_by(messages.c.position)
            )
            every_row = list(rows)
            calls = await connection.execute(
                select(tool_calls)
                .where(tool_calls.c.conversation_id == conversation_id)
                .order_by(tool_calls.c.requested_at)
            )
        tree = Tree()
        for row in every_row:
            tree.add(row.position, row.parent, chosen=row.chosen)
        by_position = {row.position: row for row in every_row}
        message_rows = [by_position[position] for position in tree.active_branch()]
        return StoredConversation(
            id=head.id,
            title=head.title,
            locale=head.locale,
            created_at=head.created_at,
            updated_at=head.updated_at,
            last_seq=max(head.last_frame or 0, head.compacted_seq),
            compacted_seq=head.compacted_seq,
            history=[{"role": m.role, "content": m.content} for m in message_rows],
            stopped=[m.stopped for m in message_rows],
            tool_calls=[_stored_call(c) for c in calls],
            usage=[m.usage for m in message_rows],
            attachments=[m.attachments or [] for m in message_rows],
            stop_reasons=[m.stop_reason for m in message_rows],
            hidden=[m.hidden for m in message_rows],
            choices=Choices(model=head.model, thinking=head.thinking),
            pinned=head.pinned,
            titled_by=head.titled_by,
            positions=[m.position for m in message_rows],
            tree=tree,
        )

    async def load_message(self, conversation_id: str, position: int) -> JsonDict | None:
        query = select(messages.c.role, messages.c.content).where(
            messages.c.conversation_id == conversation_id, messages.c.position == position
        )
        async with self._reads.connect() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else {"role": row.role, "content": row.content}

    async def tool_calls(self, conversation_id: str) -> list[StoredToolCall]:
        """A conversation's stored calls, oldest first (the history draws their cards)."""
        async with self._reads.connect() as connection:
            calls = await connection.execute(
                select(tool_calls)
                .where(tool_calls.c.conversation_id == conversation_id)
                .order_by(tool_calls.c.requested_at)
            )
            return [_stored_call(c) for c in calls]

    async def list_conversations(
        self, limit: int = 200, after: ListCursor | None = None
    ) -> list[JsonDict]:
        """Pinned first, then newest first; `after` is the (pinned, updated_at, id) of the last
        row of the page before."""
        c = conversations.c
        query = (
            select(conversations).order_by(c.pinned.desc(), c.updated_at.desc(), c.id.desc())
        ).limit(limit)
        if after is not None:
            pinned, updated_at, conversation_id = after
            later_in_group = (c.updated_at < updated_at) | (
                (c.updated_at == updated_at) & (c.id < conversation_id)
            )
            same_group = c.pinned.is_(true()) if pinned else c.pinned.is_(false())
            rest = same_group & later_in_group
            query = query.where((c.pinned.is_(false()) | rest) if pinned else rest)
        async with self._reads.connect() as connection:
            return [dict(row) for row in (await connection.execute(query)).mappings()]

    async def rename(self, conversation_id: str, title: str) -> bool:
        """The person's title: kept from now on (a generated one never replaces it)."""
        return await self._set_title(conversation_id, title, TitledBy.PERSON)

    async def set_generated_title(self, conversation_id: str, title: str) -> bool:
        """Claude's title, only over the first words (not over the person's own)."""
        return await self._set_title(conversation_id, title, TitledBy.CLAUDE, only_over="words")

    async def _set_title(
        self, conversation_id: str, title: str, by: str, only_over: str | None = None
    ) -> bool:
        query = update(conversations).where(conversations.c.id == conversation_id)
        if only_over is not None:
            query = query.where(conversations.c.titled_by == only_over)
        statement = query.values(title=title, titled_by=by)

        async def step(connection: AsyncConnection) -> bool:
            if (await connection.execute(statement)).rowcount == 0:
                return False
            await _index(connection, conversation_id, TITLE_POSITION, title)
            return True

        return bool(await self.write(step))

    async def set_pinned(self, conversation_id: str, pinned: bool) -> bool:
        statement = (
            update(conversations).where(conversations.c.id == conversation_id).values(pinned=pinned)
        )

        async def step(connection: AsyncConnection) -> bool:
            return (await connection.execute(statement)).rowcount > 0

        return bool(await self.write(step))

    async def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Conversations whose title or messages hold every word of `query`, best first."""
        terms = query_terms(query)
        if not terms:
            return []
        async with self._reads.connect() as connection:
            return await find(connection, terms, limit)

    async def delete_conversation(self, conversation_id: str) -> bool:
        await self.flush(conversation_id)  # frames still queued would outlive the deletion

        async def step(connection: AsyncConnection) -> bool:
            for table in (frames, tool_calls, messages, search_entries):
                await connection.execute(
                    delete(table).where(table.c.conversation_id == conversation_id)
                )
            result = await connection.execute(
                delete(conversations).where(conversations.c.id == conversation_id)
            )
            return result.rowcount > 0

        return bool(await self.write(step))

    async def import_conversation(
        self,
        conversation_id: str,
        locale: str,
        title: str,
        pinned: bool,
        history: list[JsonDict],
        stopped: list[bool],
        calls: list[StoredToolCall],
    ) -> None:
        """A whole conversation in one transaction: all of it lands, or none."""
        now = time.time()
        head = {
            "id": conversation_id,
            "title": title,
            "locale": locale,
            "created_at": now,
            "updated_at": now,
            "pinned": pinned,
            "titled_by": TitledBy.PERSON if title else TitledBy.WORDS,
        }

        async def step(connection: AsyncConnection) -> None:
            await connection.execute(insert(conversations).values(**head))
            await _index(connection, conversation_id, TITLE_POSITION, title)
            for position, (message, was_stopped) in enumerate(zip(history, stopped, strict=True)):
                row = {"role": message["role"], "content": message["content"]}
                await connection.execute(
                    insert(messages).values(
                        conversation_id=conversation_id,
                        position=position,
                        parent=position - 1 if position > 0 else None,
                        stopped=was_stopped,
                        **row,
                    )
                )
                await _index(connection, conversation_id, position, indexed_text(row["content"]))
            for order, call in enumerate(calls):  # requested_at keeps their order
                await connection.execute(
                    insert(tool_calls).values(**_call_row(conversation_id, call, now + order / 1e6))
                )

        await self.write(step)

    # ── messages ────────────────────────────────────────────────────────────────────────────
    async def save_message(
        self,
        conversation_id: str,
        position: int,
        message: JsonDict,
        *,
        stopped: bool = False,
        usage: JsonDict | None = None,
        attachments: list[JsonDict] | None = None,
        stop_reason: str | None = None,
        hidden: bool = False,
        parent: int | None | Linear = Linear.BEFORE,
        new: bool = False,
        siblings: bool = True,
    ) -> None:
        """Insert or replace the message at `position` (the last one may grow after a failure).

        A new message follows `parent` (by default the position before it) and becomes the
        chosen one among its siblings. A caller that knows more saves statements, a message's
        worth each time: `new` when `position` was never stored (no look for it first), and
        `siblings=False` when the message is its parent's only child (none to un-choose)."""
        key = (messages.c.conversation_id == conversation_id) & (messages.c.position == position)
        if isinstance(parent, Linear):
            parent = position - 1 if position > 0 else None
        values = {
            "role": message["role"],
            "content": message["content"],
            "stopped": stopped,
            "usage": usage,
            "attachments": attachments or None,
            "stop_reason": stop_reason,
            "hidden": hidden,
        }

        async def step(connection: AsyncConnection) -> None:
            inserted = new
            if not new:
                changed = await connection.execute(update(messages).where(key).values(**values))
                inserted = changed.rowcount == 0
            if inserted:
                if siblings:
                    await _choose(connection, conversation_id, parent, position)
                await connection.execute(
                    insert(messages).values(
                        conversation_id=conversation_id, position=position, parent=parent, **values
                    )
                )
            text = indexed_text(message["content"])
            await _index(connection, conversation_id, position, text, new=inserted)
            await _touch(connection, conversation_id, message)

        await self.write(step)

    async def choose_branches(
        self, conversation_id: str, choices: Sequence[tuple[int | None, int | None]]
    ) -> None:
        """Each (parent, child): `child` becomes the chosen one of `parent`'s children (a
        parent None: of the first messages; a child None: none of them)."""

        async def step(connection: AsyncConnection) -> None:
            for parent, child in choices:
                await _choose(connection, conversation_id, parent, child)

        await self.write(step)

    # ── tool calls ──────────────────────────────────────────────────────────────────────────
    async def save_tool_call(self, conversation_id: str, call: StoredToolCall) -> None:
        query = insert(tool_calls).values(**_call_row(conversation_id, call, time.time()))

        async def step(connection: AsyncConnection) -> None:
            await connection.execute(query)

        await self.write(step)

    async def update_tool_call(
        self,
        conversation_id: str,
        tool_use_id: str,
        *,
        status: ToolCallStatus,
        result: JsonDict | None = None,
        decided_by: DecidedBy | None = None,
        only_if: Sequence[ToolCallStatus] | None = None,
        request_frame: str | None = None,
    ) -> bool:
        """Move a call to `status`; with `only_if`, only from one of those states (used once)."""
        query = update(tool_calls).where(
            tool_calls.c.conversation_id == conversation_id, tool_calls.c.id == tool_use_id
        )
        if only_if is not None:
            query = query.where(tool_calls.c.status.in_(only_if))
        values: JsonDict = {"status": status, "decided_at": time.time()}
        if result is not None:
            values["result"] = result
        if decided_by is not None:
            values["decided_by"] = decided_by
        if request_frame is not None:
            values["request_frame"] = request_frame
        statement = query.values(**values)

        async def step(connection: AsyncConnection) -> bool:
            return (await connection.execute(statement)).rowcount > 0

        return bool(await self.write(step))


async def _compact(connection: AsyncConnection, conversation_id: str, through_seq: int) -> None:
    gone = (frames.c.conversation_id == conversation_id) & (frames.c.last_seq <= through_seq)
    await connection.execute(delete(frames).where(gone))
    mark = (
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .where(conversations.c.compacted_seq < through_seq)
        .values(compacted_seq=through_seq)
    )
    await connection.execute(mark)


async def _choose(
    connection: AsyncConnection, conversation_id: str, parent: int | None, child: int | None
) -> None:
    m = messages.c
    siblings = (m.conversation_id == conversation_id) & (
        m.parent.is_(None) if parent is None else m.parent == parent
    )
    chosen = m.position == child if child is not None else false()
    await connection.execute(update(messages).where(siblings).values(chosen=chosen))


async def _touch(connection: AsyncConnection, conversation_id: str, message: JsonDict) -> None:
    values: JsonDict = {"updated_at": time.time()}
    title = _title_of(message)
    query = update(conversations).where(conversations.c.id == conversation_id)
    if title:  # the first words of the first user message name the conversation
        named = await connection.execute(
            query.where(conversations.c.title == "").values(title=title, **values)
        )
        if named.rowcount:
            await _index(connection, conversation_id, TITLE_POSITION, title)
            return
    await connection.execute(query.values(**values))


async def _index(
    connection: AsyncConnection, conversation_id: str, position: int, text: str, new: bool = False
) -> None:
    """Keep what search finds at this place equal to `text` (none when it is blank); a `new`
    place has nothing to replace."""
    place = (search_entries.c.conversation_id == conversation_id) & (
        search_entries.c.position == position
    )
    if not new:
        await connection.execute(delete(search_entries).where(place))
    if text.strip():
        await connection.execute(
            insert(search_entries).values(
                conversation_id=conversation_id, position=position, body=text
            )
        )


_SQLITE_INSERT_FRAMES_FROM_JSON = (
    "INSERT INTO frames (conversation_id, first_seq, last_seq, body) "
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), json_extract(value, '$[3]') FROM json_each(?)"
)


async def _sqlite_has_json(connection: AsyncConnection) -> bool:
    """SQLite's JSON functions are built in since 3.38 and usually compiled in before."""
    try:
        await connection.exec_driver_sql("SELECT json_each.value FROM json_each('[1]')")
    except DBAPIError:
        return False
    return True


def _frame_rows(batch: dict[str, list[tuple[int, str]]]) -> list[FrameRow]:
    """A row per run of consecutive frames of one conversation (a run breaks only where a
    resume after a crash skipped numbers), its values in the frames table's column order."""
    rows: list[FrameRow] = []
    for conversation_id, numbered in batch.items():
        first, last = numbered[0][0], numbered[-1][0]
        if last - first + 1 == len(numbered):  # the usual case: one run, no per-frame loop
            rows.append((conversation_id, first, last, _joined(numbered)))
            continue
        runs: list[list[tuple[int, str]]] = []
        for frame in numbered:
            if runs and frame[0] == runs[-1][-1][0] + 1:
                runs[-1].append(frame)
            else:
                runs.append([frame])
        rows += [(conversation_id, run[0][0], run[-1][0], _joined(run)) for run in runs]
    return rows


def _joined(run: list[tuple[int, str]]) -> str:
    return "\n".join([body for _, body in run])  # JSON texts hold no raw newline


def _settle(
    done: asyncio.Future[Any], *, result: Any = None, error: BaseException | None = None
) -> None:
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)


def _fail_all(writes: list[_Write], error: Exception | None = None) -> None:
    for write in writes:
        _settle(write.done, error=error or StoreWriteError("the store is closed"))


def _call_row(conversation_id: str, call: StoredToolCall, requested_at: float) -> JsonDict:
    return {
        "conversation_id": conversation_id,
        "id": call.id,
        "position": call.position,
        "name": call.name,
        "status": call.status,
        "request_frame": call.request_frame,
        "result": call.result,
        "requested_at": requested_at,
        "expires_at": call.expires_at,
        "decided_by": call.decided_by,
    }


def _stored_call(row: Any) -> StoredToolCall:
    return StoredToolCall(
        id=row.id,
        position=row.position,
        name=row.name,
        status=ToolCallStatus(row.status),
        request_frame=row.request_frame,
        result=row.result,
        expires_at=row.expires_at,
        decided_by=DecidedBy(row.decided_by) if row.decided_by else None,
    )


def _title_of(message: JsonDict) -> str:
    if message["role"] != "user":
        return ""
    content = message["content"]
    if isinstance(content, str):  # the API's shorthand for one text block
        content = [{"type": "text", "text": content}]
    for block in content:
        if block.get("type") == "text" and block["text"].strip():
            return " ".join(block["text"].split())[:80]
    return ""


def _engine_for(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        # One connection: SQLite takes one writer at a time, so writes queue here, not in
        # "database is locked" errors.
        engine = create_async_engine(url, pool_size=1, max_overflow=0)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # The writer is one task: its transactions need a connection or two.
    return create_async_engine(url, pool_size=2, max_overflow=2, pool_pre_ping=True)


def _reads_engine_for(engine: AsyncEngine) -> AsyncEngine:
    """PostgreSQL reads in autocommit: no BEGIN and ROLLBACK round trips around each read
    (nor around the pool's ping). A statement sees what was committed when it began, as in a
    READ COMMITTED transaction. SQLite keeps its one connection for both."""
    if engine.dialect.name != "postgresql":
        return engine
    return create_async_engine(
        engine.url,
        isolation_level="AUTOCOMMIT",
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _upgrade_schema(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
