"""What the wire tells a client about tool calls and failures, so it need not guess: which call
runs (`tool_started` / `tool_finished`), `status_update.error`, and the cards after a reload."""

from __future__ import annotations

from typing import Any

import pytest

from tests.model_server import ModelServer
from tests.running_app import Chat, Frame, RunningApp, events
from tests.test_resume import resume_url
from tests.test_tool_flow import ask_for, create_file

pytestmark = pytest.mark.anyio


def tool_events(frames: list[Frame]) -> list[tuple[str, Any]]:
    """The frames about tool calls, in order, with what each says."""
    shown: list[tuple[str, Any]] = []
    for frame in frames:
        data = frame["data"]
        if frame["event"] in ("tool_started", "tool_finished"):
            shown.append((frame["event"], data))
        elif frame["event"] == "status_update" and "tool_running" in data:
            shown.append(("tool_running", data["tool_running"]))
    return shown


async def test_an_approved_call_is_started_then_finished_by_its_id(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as chat:
        await ask_for(chat, model, create_file("toolu_a", "a.txt", "alpha"))
        await chat.send("tool_approval", {"tool_use_id": "toolu_a", "approved": True})
        frames = await chat.recv_until("assistant_message_completed")
    assert tool_events(frames) == [
        ("tool_started", {"tool_use_id": "toolu_a", "name": "create_file"}),
        ("tool_running", True),
        ("tool_running", False),
        ("tool_finished", {"tool_use_id": "toolu_a", "status": "done", "decided_by": "tool"}),
    ]


async def test_a_denied_call_is_finished_without_starting(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as chat:
        await ask_for(chat, model, create_file("toolu_no", "no.txt", "nope"))
        await chat.send("tool_approval", {"tool_use_id": "toolu_no", "approved": False})
        frames = await chat.recv_until("assistant_message_completed")
    assert tool_events(frames) == [
        ("tool_finished", {"tool_use_id": "toolu_no", "status": "denied", "decided_by": "person"}),
    ]


async def test_a_failed_reply_flags_the_error_until_the_next_reply_starts(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"http_error": {"status": 401, "type": "authentication_error", "message": "no"}})
    async with Chat(app.ws_url()) as chat:
        failed = await chat.reply_to("hello")
        model.script({"text": ["fine"]})
        next_reply = await chat.reply_to("again")
    error_at = next(i for i, f in enumerate(failed) if f["event"] == "error")
    assert failed[error_at + 1]["data"] == {"error": True}
    assert events(next_reply, "status_update")[0]["data"] == {"error": False}
    assert {"error": False} not in [f["data"] for f in failed]


async def test_a_reload_redraws_the_cards_with_their_final_status(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as chat:
        model.script(
            {
                "text": ["Writing both."],
                "tool_uses": [
                    create_file("toolu_yes", "notes/yes.txt", "kept"),
                    create_file("toolu_no", "notes/no.txt", "dropped"),
                ],
            }
        )
        await chat.say("write two files")
        await chat.recv_until("tool_request", id="toolu_no")
        await chat.send("tool_approval", {"tool_use_id": "toolu_yes", "approved": True})
        await chat.send("tool_approval", {"tool_use_id": "toolu_no", "approved": False})
        await chat.recv_until("assistant_message_completed")
        await chat.reply_to("thanks")  # the history holds the turns before the last one
    async with Chat(resume_url(app, chat, None)) as reloaded:
        history = await reloaded.recv()
    assert history["event"] == "history"
    [_, reply, _] = history["data"]["messages"]  # the last reply comes as its frames
    [done, denied] = reply["tool_calls"]
    assert done["id"] == "toolu_yes"
    assert done["name"] == "create_file"
    assert done["summary"] == "notes/yes.txt"
    assert (done["status"], done["decided_by"]) == ("done", "tool")
    assert done["result"] != ""
    assert denied["summary"] == "notes/no.txt"
    assert (denied["status"], denied["decided_by"]) == ("denied", "person")
    assert "denied" in denied["result"]
