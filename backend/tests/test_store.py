"""The store on a real SQLite file (and PostgreSQL where widths differ): the frame log, messages,
tool calls, deletion, compaction, and a writer that survives what its callers give it."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from gatehouse import metrics
from gatehouse import store as store_module
from gatehouse.store import Store, StoredToolCall, StoreWriteError, database_url
from gatehouse.tool_call import DecidedBy, ToolCallStatus
from tests.postgres import postgres_server

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'gatehouse.db'}")
    await opened.create_conversation("a", "pt-BR")
    await opened.create_conversation("b", "en")
    yield opened
    await opened.close()


async def test_frames_come_back_after_any_seq_across_batches(store: Store) -> None:
    for seq in range(1, 4):
        store.log_frame("a", seq, f'{{"n":{seq}}}')
        store.log_frame("b", seq, f'{{"other":{seq}}}')
    await store.flush()
    for seq in range(4, 8):
        store.log_frame("a", seq, f'{{"n":{seq}}}')
    assert await store.frames_after("a", 2) == [(n, f'{{"n":{n}}}') for n in range(3, 8)]
    assert await store.frames_after("a", 7) == []
    assert [n for n, _ in await store.frames_after("b", 0)] == [1, 2, 3]


async def _frames_written(store: Store, conversation: str) -> int:
    """Frames of `conversation` committed so far, read past the store (which would flush)."""
    async with store.connect() as connection:
        rows = await connection.execute(
            text("SELECT body FROM frames WHERE conversation_id = :c"), {"c": conversation}
        )
        return sum(len(str(row.body).split("\n")) for row in rows)


async def test_a_flush_for_one_conversation_waits_for_its_frames_only(store: Store) -> None:
    store.log_frame("a", 1, "a1")
    await store.flush("a")
    assert await _frames_written(store, "a") == 1
    store.log_frame("b", 1, "b1")
    await store.flush("a")  # nothing of a's is waiting: b's window is left as it is
    assert await _frames_written(store, "b") == 0
    await store.flush("b")
    assert await _frames_written(store, "b") == 1


async def test_a_flush_ends_while_other_frames_keep_coming(store: Store) -> None:
    """Frames logged after a flush began are not its to wait for, or a busy store would keep
    every flush (a resume, a turn handed over) waiting for a quiet moment that never comes."""
    store.log_frame("a", 1, "a1")
    stop = asyncio.Event()

    async def stream() -> None:
        seq = 0
        while not stop.is_set():
            seq += 1
            store.log_frame("b", seq, f"b{seq}")
            await asyncio.sleep(0)  # one frame per turn of the loop, as a busy worker logs

    producer = asyncio.create_task(stream())
    try:
        with anyio.fail_after(10):  # a bound, not a wait: before, this flush never ended
            await store.flush()
    finally:
        stop.set()
        await producer
    assert await _frames_written(store, "a") == 1


async def test_a_gap_in_numbers_keeps_every_frame_at_its_seq(store: Store) -> None:
    for seq in (1, 2, 9, 10):  # a resume after a crash skipped 3..8
        store.log_frame("a", seq, f"f{seq}")
    assert await store.frames_after("a", 0) == [(1, "f1"), (2, "f2"), (9, "f9"), (10, "f10")]
    loaded = await store.load_conversation("a")
    assert loaded is not None
    assert loaded.last_seq == 10


async def test_messages_are_replaced_in_place_and_name_the_conversation(store: Store) -> None:
    first = {"role": "user", "content": [{"type": "text", "text": "  Plan   my week "}]}
    await store.save_message("a", 0, first)
    grown = {"role": "user", "content": [*first["content"], {"type": "text", "text": "again"}]}
    await store.save_message("a", 0, grown)
    await store.save_message("a", 1, {"role": "assistant", "content": []}, stopped=True)
    loaded = await store.load_conversation("a")
    assert loaded is not None
    assert loaded.history == [grown, {"role": "assistant", "content": []}]
    assert loaded.stopped == [False, True]
    assert loaded.title == "Plan my week"
    assert [c["id"] for c in await store.list_conversations()] == ["a", "b"]


async def test_a_message_in_the_apis_string_shorthand_names_the_conversation(
    store: Store,
) -> None:
    await store.save_message("b", 0, {"role": "user", "content": "Short   form"})
    loaded = await store.load_conversation("b")
    assert loaded is not None
    assert loaded.title == "Short form"


async def test_a_decision_is_taken_once(store: Store) -> None:
    pending = ToolCallStatus.PENDING
    call = StoredToolCall("toolu_1", 0, "create_file", pending, "{}", None, 1e12)
    await store.save_tool_call("a", call)
    approved, denied = ToolCallStatus.APPROVED, ToolCallStatus.DENIED
    assert await store.update_tool_call("a", "toolu_1", status=approved, only_if=[pending])
    assert not await store.update_tool_call("a", "toolu_1", status=denied, only_if=[pending])
    assert not await store.update_tool_call("b", "toolu_1", status=denied, only_if=[pending])
    loaded = await store.load_conversation("a")
    assert loaded is not None
    assert [c.status for c in loaded.tool_calls] == ["approved"]


async def test_deleting_removes_everything_of_one_conversation(store: Store) -> None:
    store.log_frame("a", 1, "x")
    store.log_frame("b", 1, "y")
    await store.save_message("a", 0, {"role": "user", "content": [{"type": "text", "text": "hi"}]})
    assert await store.delete_conversation("a")
    assert not await store.delete_conversation("a")
    assert await store.load_conversation("a") is None
    assert await store.frames_after("a", 0) == []
    assert await store.frames_after("b", 0) == [(1, "y")]


@pytest.fixture
def commits() -> Iterator[list[object]]:
    """Every transaction committed by any engine while the test runs."""
    seen: list[object] = []

    def count(connection: Any) -> None:
        seen.append(connection)

    event.listen(Engine, "commit", count)
    yield seen
    event.remove(Engine, "commit", count)


async def test_a_thousand_conversations_writing_at_once_share_a_few_transactions(
    store: Store, commits: list[object]
) -> None:
    # One SQLite connection: a transaction per write made 1,000 replies queue for it (and time
    # out after 30 s under load); the writer commits them together instead.
    async def open_and_ask(n: int) -> None:
        await store.create_conversation(f"c{n}", "en")
        store.log_frame(f"c{n}", 1, "{}")
        text = {"role": "user", "content": [{"type": "text", "text": f"question {n}"}]}
        await store.save_message(f"c{n}", 0, text)

    await asyncio.gather(*(open_and_ask(n) for n in range(1000)))
    assert len(commits) <= 20
    listed = {row["id"]: row["title"] for row in await store.list_conversations(limit=2000)}
    assert all(listed[f"c{n}"] == f"question {n}" for n in range(1000))
    assert await store.frames_after("c999", 0) == [(1, "{}")]


async def test_a_failing_write_fails_only_its_own_caller(store: Store) -> None:
    store.log_frame("b", 1, "kept")
    message = {"role": "user", "content": [{"type": "text", "text": "still saved"}]}
    outcomes = await asyncio.gather(
        store.create_conversation("a", "en"),  # "a" exists: this write must fail
        store.save_message("b", 0, message),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], IntegrityError)
    assert outcomes[1] is None
    loaded = await store.load_conversation("b")
    assert loaded is not None
    assert loaded.history == [message]
    assert await store.frames_after("b", 0) == [(1, "kept")]


async def test_a_write_whose_caller_is_cancelled_still_lands(store: Store) -> None:
    message = {"role": "assistant", "content": [{"type": "text", "text": "partial"}]}
    saving = asyncio.create_task(store.save_message("a", 0, message, stopped=True))
    await asyncio.sleep(0)  # the write is queued; now the turn is cancelled
    saving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await saving
    await store.flush()
    loaded = await store.load_conversation("a")
    assert loaded is not None
    assert (loaded.history, loaded.stopped) == ([message], [True])


def test_plain_urls_get_the_async_drivers() -> None:
    assert database_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert database_url("postgresql://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"
    assert database_url("postgresql+asyncpg://h/db") == "postgresql+asyncpg://h/db"


@pytest.fixture(scope="module")
def _postgres() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gatehouse.db'}"
    else:
        url = request.getfixturevalue("_postgres")
    opened = await Store.open(url)
    yield opened
    await opened.close()


async def test_sequence_numbers_and_positions_hold_64_bits(any_store: Store) -> None:
    # PostgreSQL's INTEGER is 32-bit: these rows were refused and the frames lost.
    conversation = uuid.uuid4().hex
    big = 2**40
    await any_store.create_conversation(conversation, "en")
    any_store.log_frame(conversation, big, "f1")
    any_store.log_frame(conversation, big + 1, "f2")
    message = {"role": "user", "content": [{"type": "text", "text": "far"}]}
    await any_store.save_message(conversation, big, message)
    pending = ToolCallStatus.PENDING
    call = StoredToolCall("toolu_far", big, "create_file", pending, "{}", None, None)
    await any_store.save_tool_call(conversation, call)
    assert await any_store.frames_after(conversation, big) == [(big + 1, "f2")]
    loaded = await any_store.load_conversation(conversation)
    assert loaded is not None
    assert (loaded.last_seq, loaded.history, loaded.tool_calls[0].position) == (
        big + 1,
        [message],
        big,
    )


def _dropped_rows() -> float:
    return metrics.REGISTRY.get_sample_value("gatehouse_frame_log_rows_dropped_total") or 0.0


async def test_one_unwritable_frame_row_costs_no_other_conversation_its_frames(
    store: Store,
) -> None:
    dropped = _dropped_rows()
    for seq in range(1, 4):
        store.log_frame("b", seq, f"b{seq}")
    store.log_frame("a", 2**64, "poison")  # no database column holds it
    store.log_frame("b", 4, "b4")
    await store.flush()
    assert await store.frames_after("b", 0) == [(n, f"b{n}") for n in range(1, 5)]
    assert await store.frames_after("a", 0) == []
    assert _dropped_rows() == dropped + 1


class _Unexpected(BaseException):
    """Nothing the writer knows: not an Exception, not a cancellation."""


async def test_a_write_step_raising_the_unexpected_fails_its_caller_and_the_writer_goes_on(
    store: Store,
) -> None:
    async def explode(_connection: AsyncConnection) -> None:
        raise _Unexpected

    store.log_frame("a", 1, "kept")
    message = {"role": "user", "content": [{"type": "text", "text": "in the same batch"}]}
    with anyio.fail_after(10):  # before: the writer died and every caller waited for ever
        outcomes = await asyncio.gather(
            store.write(explode), store.save_message("b", 0, message), return_exceptions=True
        )
        assert isinstance(outcomes[0], StoreWriteError)
        assert outcomes[1] is None
        later = {"role": "assistant", "content": [{"type": "text", "text": "afterwards"}]}
        await store.save_message("b", 1, later)
    loaded = await store.load_conversation("b")
    assert loaded is not None
    assert loaded.history == [message, later]
    assert await store.frames_after("a", 0) == [(1, "kept")]


async def test_compaction_drops_the_frames_and_keeps_the_numbering(
    store: Store, tmp_path: Path
) -> None:
    for seq in range(1, 6):
        store.log_frame("a", seq, f"a{seq}")
    store.log_frame("b", 1, "b1")
    await store.compact_frames("a", 5)
    store.log_frame("a", 6, "a6")
    assert await store.frames_after("a", 0) == [(6, "a6")]
    with sqlite3.connect(tmp_path / "gatehouse.db") as db:
        rows = db.execute("select count(*) from frames where conversation_id = 'a'").fetchone()
    assert rows == (1,)
    loaded = await store.load_conversation("a")
    assert loaded is not None
    assert (loaded.last_seq, loaded.compacted_seq) == (6, 5)
    await store.compact_frames("a", 6)
    emptied = await store.load_conversation("a")
    assert emptied is not None
    assert (emptied.last_seq, emptied.compacted_seq) == (6, 6)  # no frame left, no seq reused
    assert await store.frames_after("b", 0) == [(1, "b1")]


async def test_idle_conversations_are_compacted_but_recent_ones_and_open_turns_are_not(
    any_store: Store,
) -> None:
    ids = {name: uuid.uuid4().hex for name in ("idle", "open", "recent")}
    for name in ("idle", "open"):
        await any_store.create_conversation(ids[name], "en")
    cutoff = time.time()
    await any_store.create_conversation(ids["recent"], "en")
    for conversation in ids.values():
        for seq in (1, 2, 3):
            any_store.log_frame(conversation, seq, f"f{seq}")
    await any_store.flush()
    assert await any_store.compact_idle(cutoff, {ids["open"]}) >= 1
    assert await any_store.frames_after(ids["idle"], 0) == []
    assert await any_store.compacted_seq(ids["idle"]) == 3
    for name in ("open", "recent"):
        assert await any_store.frames_after(ids[name], 0) == [(1, "f1"), (2, "f2"), (3, "f3")]
        assert await any_store.compacted_seq(ids[name]) == 0
    any_store.log_frame(ids["idle"], 4, "f4")  # numbering goes on after the compacted seq
    await any_store.flush()
    assert await any_store.frames_after(ids["idle"], 3) == [(4, "f4")]


async def test_the_list_pages_by_cursor_without_repeats_or_gaps(store: Store) -> None:
    for n in range(7):
        await store.create_conversation(f"p{n}", "en")
    listed: list[str] = []
    after: tuple[bool, float, str] | None = None
    while page := await store.list_conversations(3, after=after):
        listed += [row["id"] for row in page]
        after = (page[-1]["pinned"], page[-1]["updated_at"], page[-1]["id"])
    assert sorted(listed) == sorted(["a", "b", *(f"p{n}" for n in range(7))])
    assert len(listed) == len(set(listed))


def _migrate(connection: Any, revision: str) -> None:
    config = Config()
    migrations = Path(store_module.__file__).parent / "migrations"
    config.set_main_option("script_location", str(migrations))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_a_database_made_by_0001_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        _migrate(connection, "0001")
        connection.exec_driver_sql("insert into conversations values ('old', 't', 'en', 1, 1)")
        connection.exec_driver_sql(
            "insert into frames values ('old', 1, 2, 'x' || char(10) || 'y')"
        )
    engine.dispose()
    upgraded = await Store.open(f"sqlite:///{path}")
    try:
        assert await upgraded.frames_after("old", 0) == [(1, "x"), (2, "y")]
        upgraded.log_frame("old", 2**40, "far")
        await upgraded.flush()
        loaded = await upgraded.load_conversation("old")
        assert loaded is not None
        assert (loaded.last_seq, loaded.compacted_seq) == (2**40, 0)
    finally:
        await upgraded.close()


# Every status name a database made before 0003 holds, and what it means now.
_OLD_STATUSES = {
    "refused": (ToolCallStatus.INVALID, DecidedBy.SCREENING),
    "pending": (ToolCallStatus.PENDING, None),
    "approved": (ToolCallStatus.APPROVED, None),
    "denied": (ToolCallStatus.DENIED, DecidedBy.PERSON),
    "timeout": (ToolCallStatus.EXPIRED, DecidedBy.DEADLINE),
    "expired": (ToolCallStatus.EXPIRED, DecidedBy.DEADLINE),
    "running": (ToolCallStatus.RUNNING, None),
    "ok": (ToolCallStatus.DONE, DecidedBy.TOOL),
    "error": (ToolCallStatus.FAILED, DecidedBy.TOOL),
    "cancelled": (ToolCallStatus.INTERRUPTED, DecidedBy.STOP),
    "interrupted": (ToolCallStatus.INTERRUPTED, DecidedBy.RESTART),
}


async def test_tool_calls_stored_under_the_old_status_names_load_under_the_new_ones(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        _migrate(connection, "0002")
        connection.exec_driver_sql("insert into conversations values ('old', 't', 'en', 1, 1, 0)")
        for n, old in enumerate(_OLD_STATUSES):
            result = f'{{"type": "tool_result", "tool_use_id": "toolu_{n}"}}'
            connection.exec_driver_sql(
                "insert into tool_calls values ('old', ?, ?, 'create_file', ?, null, ?, ?, null,"
                " null)",
                (f"toolu_{n}", n, old, result, float(n)),
            )
    engine.dispose()
    upgraded = await Store.open(f"sqlite:///{path}")
    try:
        loaded = await upgraded.load_conversation("old")
    finally:
        await upgraded.close()
    assert loaded is not None
    found = [(call.status, call.decided_by) for call in loaded.tool_calls]
    assert found == list(_OLD_STATUSES.values())
    # What Claude is told is the stored result, untouched by the rename.
    assert loaded.tool_calls[4].result == {"type": "tool_result", "tool_use_id": "toolu_4"}


async def test_processes_opening_a_new_postgres_database_together_all_start(
    _postgres: str,
) -> None:
    """Workers of `serve --workers N` start at once on an empty database: one migrates while
    the others wait for it, none fails on the half-made schema."""
    fresh = f"fresh_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(database_url(_postgres), isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{fresh}"'))
    await admin.dispose()
    url = make_url(_postgres).set(database=fresh).render_as_string(hide_password=False)
    opened = await asyncio.gather(*(Store.open(url) for _ in range(4)))
    try:
        await opened[0].create_conversation("c", "en")
        assert all([await s.load_conversation("c") is not None for s in opened])
    finally:
        for store in opened:
            await store.close()
