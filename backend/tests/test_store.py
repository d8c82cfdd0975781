"""The store on a real SQLite file: the frame log, messages, tool calls, deletion."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from gatehouse.store import Store, StoredToolCall, database_url

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


async def test_a_decision_is_taken_once(store: Store) -> None:
    call = StoredToolCall("toolu_1", 0, "create_file", "pending", "{}", None, 1e12)
    await store.save_tool_call("a", call)
    assert await store.update_tool_call("a", "toolu_1", status="approved", only_if=["pending"])
    assert not await store.update_tool_call("a", "toolu_1", status="denied", only_if=["pending"])
    assert not await store.update_tool_call("b", "toolu_1", status="denied", only_if=["pending"])
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
