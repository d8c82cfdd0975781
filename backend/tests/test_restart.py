"""What survives a server restart, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import anyio
import pytest

from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, RunningApp, ended, events, streamed_text

pytestmark = pytest.mark.anyio


def _kill(app: RunningApp, how: signal.Signals) -> None:
    app.process.send_signal(how)
    app.process.wait(15)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_a_pending_approval_survives_a_restart_and_the_turn_goes_on(
    app_factory: AppFactory,
    model: ModelServer,
    kept_env: dict[str, str],
    how: signal.Signals,
) -> None:
    workspace = Path(kept_env["WORKSPACE_DIR"])
    env = kept_env
    use = {
        "id": "toolu_durable",
        "name": "create_file",
        "input": {"path": "kept.txt", "content": "ok"},
    }
    model.script({"text": ["Asking."], "tool_uses": [use]})
    first = app_factory(**env)
    async with Chat(first.ws_url()) as chat:
        await chat.say("write kept.txt")
        await chat.recv_until("tool_request")
        session_id, last_seq = chat.session_id, chat.last_seq
    _kill(first, how)

    second = app_factory(**env)
    async with Chat(second.ws_url(session_id=session_id, last_seq=str(last_seq))) as back:
        request = await back.recv_until("tool_request")
        await back.send("tool_approval", {"tool_use_id": "toolu_durable", "approved": True})
        frames = await back.recv_until("assistant_message_completed")
    assert request[-1]["data"]["id"] == "toolu_durable"
    assert (workspace / "kept.txt").read_text() == "ok"
    assert "".join(f["data"]["chunk"] for f in events(frames, "tool_chunk")) == "ok"
    assert streamed_text(frames).startswith("Tool finished:")
    assert ended(frames[-1]) == {"reason": "ok"}
    last_user = model.requests[-1].body["messages"][-1]
    assert last_user["content"][0]["tool_use_id"] == "toolu_durable"
    assert "is_error" not in last_user["content"][0]
    status, listed = second.get("/api/conversations")
    assert status == 200
    titles = {c["id"]: c["title"] for c in json.loads(listed)}
    assert titles[chat.session_id] == "write kept.txt"


async def test_an_approval_that_expired_during_the_restart_has_its_own_message(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    database = tmp_path / "gatehouse.db"
    env = {"DATABASE_URL": f"sqlite:///{database}", "WORKSPACE_DIR": str(tmp_path / "ws")}
    use = {"id": "toolu_stale", "name": "create_file", "input": {"path": "no.txt", "content": "x"}}
    model.script({"text": ["Asking."], "tool_uses": [use]})
    first = app_factory(TOOL_APPROVAL_TIMEOUT_S="2", **env)
    async with Chat(first.ws_url(locale="en")) as chat:
        await chat.say("write no.txt")
        await chat.recv_until("tool_request")
    _kill(first, signal.SIGKILL)
    with sqlite3.connect(database) as db:
        (expires_at,) = db.execute("select expires_at from tool_calls").fetchone()
    await anyio.sleep(max(0.0, expires_at - time.time()))  # the deadline is a point in time

    second = app_factory(**env)
    url = second.ws_url(session_id=chat.session_id, last_seq=str(chat.last_seq), locale="en")
    async with Chat(url) as back:
        frames = await back.recv_until("assistant_message_completed")
        await back.send("tool_approval", {"tool_use_id": "toolu_stale", "approved": True})
        refused = await back.recv()
    # A SIGKILL may lose the last frames the client saw (their seq is then refused as
    # invalid_last_seq and the client gets the history): only the expiry is asserted here.
    [error] = [
        e for e in events(frames, "error") if e["data"]["detail"]["code"] != "invalid_last_seq"
    ]
    assert error["data"]["detail"] == {"code": "approval_expired", "tool_use_id": "toolu_stale"}
    assert (
        error["data"]["message"]
        == "The approval expired before you answered; the tool did not run."
    )
    assert refused["data"]["detail"]["code"] == "unknown_tool_call"
    assert not (tmp_path / "ws" / "no.txt").exists()
    assert model.requests[-1].body["messages"][-1]["content"][0]["is_error"] is True
