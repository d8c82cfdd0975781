"""Frames of ended turns are compacted once the session leaves memory; resume and history work
after it, and the frames really are gone (a real SQLite file)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import anyio
import pytest

from gatehouse import protocol
from gatehouse.approvals import Refusal
from gatehouse.llm import Claude
from gatehouse.policy import Policy
from gatehouse.policy_store import PolicyStore
from gatehouse.protocol import ToolApprovalData
from gatehouse.session import Session
from gatehouse.sessions import Sessions
from gatehouse.settings import Settings
from gatehouse.store import Store
from gatehouse.tool_hub import ToolHub
from gatehouse.turn import Turns
from gatehouse.workspace_server import build_workspace_server
from tests.running_app import without

pytestmark = pytest.mark.anyio


class Inbox:
    """An outbox that keeps what it is given, as a client would see it."""

    def __init__(self) -> None:
        self.frames: list[dict[str, object]] = []

    def push(self, frame: str) -> None:
        self.frames.append(json.loads(frame))

    def close(self, code: int) -> None:
        raise AssertionError(f"closed with {code}")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'gatehouse.db'}")
    yield opened
    await opened.close()


def _turns(tmp_path: Path, store: Store) -> Turns:
    """Real parts, never asked anything here: no stored call is open, no message is sent."""
    settings = Settings(_env_file=None, workspace_dir=tmp_path / "ws")  # pyright: ignore[reportCallIssue]
    workspace = build_workspace_server(settings.workspace_dir, 4096, 1 << 20)
    policy = Policy(PolicyStore(store))
    return Turns(Claude(settings), ToolHub(workspace, [], 1.0), 1.0, 100, policy)


class _ScriptedTurn:
    """A turn that writes what a reply writes, through the session's own calls."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(_reply(self._session))
        return self._task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def awaiting_approval(self) -> bool:
        return False

    def open_requests(self) -> list[str]:
        return []

    def decide(self, _answer: ToolApprovalData) -> Refusal | None:
        return Refusal("unknown_tool_call")

    def refuse_busy(self) -> None:
        raise AssertionError("one turn only")

    def cancel(self) -> bool:
        return False

    async def close(self) -> None:
        return None


async def _reply(session: Session) -> None:
    """A turn as the turn loop runs one: the person's text, chunks, the stored answer."""
    saving = session.add_user_text("hello")
    for word in ("Hi ", "there"):
        session.emit_text(word)
    await saving
    await session.add_message(
        {"role": "assistant", "content": [{"type": "text", "text": "Hi there"}]}
    )
    done = protocol.AssistantMessageCompletedData(reason="ok")
    session.emit(protocol.AssistantMessageCompleted(data=done))


def _frame_rows(database: Path, conversation_id: str) -> int:
    with sqlite3.connect(database) as db:
        query = "select count(*) from frames where conversation_id = ?"
        return db.execute(query, (conversation_id,)).fetchone()[0]


async def test_an_evicted_conversation_is_compacted_and_still_resumes(
    store: Store, tmp_path: Path
) -> None:
    sessions = Sessions(store, grace_s=0, turns=_turns(tmp_path, store))
    session, _ = await sessions.open(None, "en")
    session.emit(protocol.SessionCreated(data=protocol.SessionCreatedData(session_id=session.id)))
    evicted = asyncio.Event()
    evict = session.on_idle  # watched, not replaced: the turn's end evicts it (nobody attached)

    def idle(idle_session: Session) -> None:
        evict(idle_session)
        evicted.set()

    session.on_idle = idle
    session.start_turn(_ScriptedTurn(session))
    with anyio.fail_after(10):
        await evicted.wait()
    last_seq = session.seq

    back, resumed = await sessions.open(session.id, "en")  # waits for the compaction
    await store.flush()
    assert resumed and back is not session
    assert _frame_rows(tmp_path / "gatehouse.db", session.id) == 0
    assert back.seq == last_seq

    caught_up = Inbox()
    await back.attach_resumed(caught_up, str(last_seq))
    assert [f["event"] for f in caught_up.frames] == ["session_created"]

    behind = Inbox()  # it missed frames that are gone now: it gets the history instead
    await back.attach_resumed(behind, "2")
    assert [f["event"] for f in behind.frames] == ["session_created", "history"]
    data = cast(dict[str, list[dict[str, object]]], behind.frames[1]["data"])
    history = data["messages"]
    assert [without(m, "id") for m in history] == [
        {"role": "user", "text": "hello", "stopped": False},
        {"role": "assistant", "text": "Hi there", "stopped": False},
    ]
    back.emit_text("more")  # numbering goes on where it was
    assert caught_up.frames[-1]["seq"] == last_seq + 1
