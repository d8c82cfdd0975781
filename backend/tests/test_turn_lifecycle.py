"""One turn from start to end: a stop or a restart at each status of its tool calls ends it
once, leaves every call one final stored status, and tells Claude what happened (the real app,
the local model server, a real SQLite file)."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.mcp_support import wait_until
from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, Frame, ended, events, without

pytestmark = pytest.mark.anyio

BIG = "x" * 8_000_000  # written in 256-byte chunks: still running when the test acts
SLOW_WRITES = {"TOOL_CHUNK_BYTES": "256", "MAX_FILE_BYTES": "20000000"}


def create_file(tool_id: str, path: str, content: str) -> dict[str, Any]:
    return {"id": tool_id, "name": "create_file", "input": {"path": path, "content": content}}


def stored_calls(database: Path) -> dict[str, tuple[str, str | None]]:
    with sqlite3.connect(database) as db:
        rows = db.execute("select id, status, decided_by from tool_calls").fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def results_told(model: ModelServer, conversation_id_text: str) -> list[dict[str, Any]]:
    """The tool_result blocks Claude was sent for the round, in the last request."""
    messages = model.requests[-1].body["messages"]
    assert any(conversation_id_text in str(m["content"]) for m in messages)
    rounds = [m for m in messages if m["role"] == "user" and m["content"][0].get("tool_use_id")]
    return [block for block in rounds[-1]["content"] if block["type"] == "tool_result"]


def text_of(result: dict[str, Any]) -> str:
    return "".join(block["text"] for block in result["content"])


def completions(frames: list[Frame]) -> list[Frame]:
    return events(frames, "assistant_message_completed")


@pytest.mark.parametrize("where", ["approval", "running"])
async def test_a_stop_ends_the_turn_once_and_the_call_is_interrupted_by_the_stop(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path, where: str
) -> None:
    database = tmp_path / "turn.db"
    app = app_factory(DATABASE_URL=f"sqlite:///{database}", **SLOW_WRITES)
    model.script({"text": ["Writing."], "tool_uses": [create_file("toolu_stop", "s.txt", BIG)]})
    async with Chat(app.ws_url(locale="en")) as chat:
        await chat.say("write s.txt")
        frames = await chat.recv_until("tool_request")
        if where == "running":
            await chat.send("tool_approval", {"tool_use_id": "toolu_stop", "approved": True})
            frames += await chat.recv_until("tool_chunk")
        await chat.send("cancel", {})
        frames += await chat.recv_until("assistant_message_completed")
        await chat.send("tool_approval", {"tool_use_id": "toolu_stop", "approved": True})
        late = await chat.recv()
        after = await chat.reply_to("and now?")
    assert [ended(f) for f in completions(frames)] == [{"reason": "cancelled"}]
    assert late["data"]["detail"]["code"] == "unknown_tool_call"
    assert ended(completions(after)[-1]) == {"reason": "ok"}
    assert stored_calls(database) == {"toolu_stop": ("interrupted", "stop")}
    [told] = results_told(model, "and now?")
    assert told["is_error"] is True
    assert text_of(told) == "The user stopped the reply; this tool call did not complete."
    assert list(app.workspace.iterdir()) == []


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_a_restart_interrupts_the_running_call_and_runs_the_approved_one(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path, how: signal.Signals
) -> None:
    database = tmp_path / "turn.db"
    env = {
        "DATABASE_URL": f"sqlite:///{database}",
        "WORKSPACE_DIR": str(tmp_path / "ws"),
        **SLOW_WRITES,
    }
    uses = [create_file("toolu_long", "long.txt", BIG), create_file("toolu_next", "n.txt", "ok")]
    model.script({"text": ["Two files."], "tool_uses": uses})
    first = app_factory(**env)
    async with Chat(first.ws_url(locale="en")) as chat:
        await chat.say("write both")
        await chat.recv_until("tool_request", id="toolu_next")
        await chat.send("tool_approval", {"tool_use_id": "toolu_long", "approved": True})
        await chat.recv_until("tool_chunk")
        await chat.send("tool_approval", {"tool_use_id": "toolu_next", "approved": True})
        await wait_until(lambda: stored_calls(database)["toolu_next"][0] == "approved")
        first.process.send_signal(how)
        first.process.wait(15)
    assert stored_calls(database)["toolu_long"][0] == "running"  # the restart came mid-write

    second = app_factory(**env)
    url = second.ws_url(session_id=chat.session_id, last_seq=str(chat.last_seq), locale="en")
    async with Chat(url) as back:
        frames = await back.recv_until("assistant_message_completed")
    assert ended(completions(frames)[-1]) == {"reason": "ok"}
    codes = [e["data"]["detail"]["code"] for e in events(frames, "error")]
    assert "tool_interrupted" in codes
    assert (tmp_path / "ws" / "n.txt").read_text() == "ok"
    # Nothing half-written is left, not even the killed write's temporary file.
    assert [path.name for path in (tmp_path / "ws").iterdir()] == ["n.txt"]
    long_told, next_told = results_told(model, "write both")
    assert long_told["is_error"] is True
    assert "restarted while this tool call ran" in text_of(long_told)
    assert "is_error" not in next_told
    assert stored_calls(database) == {
        "toolu_long": ("interrupted", "restart"),
        "toolu_next": ("done", "tool"),
    }


async def test_a_stop_while_a_call_is_still_streaming_keeps_the_text_and_no_call(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    database = tmp_path / "turn.db"
    app = app_factory(DATABASE_URL=f"sqlite:///{database}")
    gate = "lifecycle-requested"
    use = create_file("toolu_streaming", "r.txt", "x")
    model.script({"text": ["Let me ", "write."], "tool_uses": [use], "hold_after": 1, "gate": gate})
    try:
        async with Chat(app.ws_url(locale="en")) as chat:
            await chat.say("write r.txt")
            frames = await chat.recv_until("ai_chunk")
            await chat.send("cancel", {})
            frames += await chat.recv_until("assistant_message_completed")
            after = await chat.reply_to("and now?")
    finally:
        model.release(gate)
    assert [ended(f) for f in completions(frames)] == [{"reason": "cancelled"}]
    assert not events(frames, "tool_request")
    assert ended(completions(after)[-1]) == {"reason": "ok"}
    assert stored_calls(database) == {}
    assert model.requests[-1].body["messages"][1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "Let me "}],
    }


async def test_a_stop_while_an_approved_call_waits_its_turn_interrupts_both(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    database = tmp_path / "turn.db"
    app = app_factory(DATABASE_URL=f"sqlite:///{database}", **SLOW_WRITES)
    uses = [create_file("toolu_first", "f.txt", BIG), create_file("toolu_waits", "w.txt", "ok")]
    model.script({"text": ["Two files."], "tool_uses": uses})
    async with Chat(app.ws_url(locale="en")) as chat:
        await chat.say("write both files")
        await chat.recv_until("tool_request", id="toolu_waits")
        await chat.send("tool_approval", {"tool_use_id": "toolu_first", "approved": True})
        await chat.recv_until("tool_chunk")
        await chat.send("tool_approval", {"tool_use_id": "toolu_waits", "approved": True})
        await wait_until(lambda: stored_calls(database)["toolu_waits"][0] == "approved")
        await chat.send("cancel", {})
        frames = await chat.recv_until("assistant_message_completed")
        await chat.reply_to("and now?")
    assert [ended(f) for f in completions(frames)] == [{"reason": "cancelled"}]
    finished = {f["data"]["tool_use_id"]: f["data"] for f in events(frames, "tool_finished")}
    assert finished["toolu_waits"]["status"] == "interrupted"
    assert stored_calls(database) == {
        "toolu_first": ("interrupted", "stop"),
        "toolu_waits": ("interrupted", "stop"),
    }
    assert [text_of(told) for told in results_told(model, "and now?")] == [
        "The user stopped the reply; this tool call did not complete."
    ] * 2
    assert list(app.workspace.iterdir()) == []


async def test_a_restart_keeps_each_settled_call_and_does_not_ask_about_a_denied_one_again(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    database = tmp_path / "turn.db"
    env = {
        "DATABASE_URL": f"sqlite:///{database}",
        "WORKSPACE_DIR": str(tmp_path / "ws"),
        **SLOW_WRITES,
    }
    uses = [
        create_file("toolu_invalid", "../outside.txt", "no"),
        create_file("toolu_done", "done.txt", "ok"),
        create_file("toolu_long", "long.txt", BIG),
        create_file("toolu_denied", "denied.txt", "no"),
    ]
    model.script({"text": ["Four files."], "tool_uses": uses})
    first = app_factory(**env)
    async with Chat(first.ws_url(locale="en")) as chat:
        await chat.say("write four files")
        await chat.recv_until("tool_request", id="toolu_denied")
        await chat.send("tool_approval", {"tool_use_id": "toolu_done", "approved": True})
        await chat.send("tool_approval", {"tool_use_id": "toolu_long", "approved": True})
        await chat.recv_until("tool_chunk", tool_use_id="toolu_long")
        await chat.send("tool_approval", {"tool_use_id": "toolu_denied", "approved": False})
        await wait_until(lambda: stored_calls(database)["toolu_denied"][0] == "denied")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(15)

    second = app_factory(**env)
    url = second.ws_url(session_id=chat.session_id, locale="en")
    async with Chat(url) as back:
        frames = await back.recv_until("assistant_message_completed")
    assert ended(completions(frames)[-1]) == {"reason": "ok"}
    assert not events(frames, "tool_request")  # the denial was kept: nothing is asked again
    finished = {f["data"]["tool_use_id"]: f["data"] for f in events(frames, "tool_finished")}
    assert finished["toolu_long"]["status"] == "interrupted"
    assert finished["toolu_denied"] == {
        "tool_use_id": "toolu_denied",
        "status": "denied",
        "decided_by": "person",
    }
    assert stored_calls(database) == {
        "toolu_invalid": ("invalid", "screening"),
        "toolu_done": ("done", "tool"),
        "toolu_long": ("interrupted", "restart"),
        "toolu_denied": ("denied", "person"),
    }
    told = {r["tool_use_id"]: r for r in results_told(model, "write four files")}
    assert list(told) == ["toolu_invalid", "toolu_done", "toolu_long", "toolu_denied"]
    assert text_of(told["toolu_invalid"]).startswith("invalid_path")
    assert "is_error" not in told["toolu_done"]
    assert "restarted while this tool call ran" in text_of(told["toolu_long"])
    assert text_of(told["toolu_denied"]) == "The tool call was denied by the user; it did not run."
    assert sorted(path.name for path in (tmp_path / "ws").iterdir()) == ["done.txt"]


def stored_roles(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        return [row[0] for row in db.execute("select role from messages order by position")]


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_a_restart_while_a_call_is_still_streaming_keeps_the_message_and_no_call(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path, how: signal.Signals
) -> None:
    database = tmp_path / "turn.db"
    env = {"DATABASE_URL": f"sqlite:///{database}", "WORKSPACE_DIR": str(tmp_path / "ws")}
    gate = f"lifecycle-restart-requested-{how.name}"
    use = create_file("toolu_cut", "r.txt", "x")
    model.script({"text": ["Let me ", "write."], "tool_uses": [use], "hold_after": 1, "gate": gate})
    first = app_factory(**env)
    try:
        async with Chat(first.ws_url(locale="en")) as chat:
            await chat.say("write r.txt")
            await chat.recv_until("ai_chunk")
            await wait_until(lambda: stored_roles(database) == ["user"])
            first.process.send_signal(how)
            first.process.wait(15)
    finally:
        model.release(gate)

    second = app_factory(**env)
    async with Chat(second.ws_url(session_id=chat.session_id, locale="en")) as back:
        shown = await back.recv_until("history")
        after = await back.reply_to("and now?")
    assert completions(after)[-1]["data"]["reason"] == "ok"
    assert not events(after, "tool_request")
    assert not (tmp_path / "ws" / "r.txt").exists()
    assert stored_calls(database) == {}  # the call never reached a status: nothing to recover
    messages = events(shown, "history")[-1]["data"]["messages"]
    assert without(messages[0], "id") == {"role": "user", "text": "write r.txt", "stopped": False}
    if how == signal.SIGTERM:  # a clean stop keeps the text streamed so far, marked stopped
        assert without(messages[1], "id") == {
            "role": "assistant",
            "text": "Let me ",
            "stopped": True,
        }
    sent = model.requests[-1].body["messages"]
    assert "write r.txt" in str(sent[0]["content"])
    # Claude is never sent the call it was still writing (a tool_use without its result).
    assert not any(block.get("type") == "tool_use" for m in sent for block in m["content"])
