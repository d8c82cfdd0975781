"""Conversations that survive: resume without gaps, reload, two tabs, cancel, the API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.model_server import ModelServer
from tests.running_app import (
    AppFactory,
    Chat,
    Frame,
    RunningApp,
    ended,
    events,
    streamed_text,
    without,
)

pytestmark = pytest.mark.anyio

WORDS = [f"word{n} " for n in range(30)]


def resume_url(app: RunningApp, chat: Chat, last_seq: int | None) -> str:
    query = {"session_id": chat.session_id}
    if last_seq is not None:
        query["last_seq"] = str(last_seq)
    return app.ws_url(**query)


async def test_a_dropped_client_gets_exactly_the_frames_it_missed(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"text": WORDS, "hold_after": 5, "gate": "drop"})
    async with Chat(app.ws_url()) as first:
        await first.say("tell me a story")
        before = await first.recv_until("ai_chunk", text="word4 ")
        first.abort()
    model.release("drop")  # the reply goes on while nobody listens
    async with Chat(resume_url(app, first, first.last_seq)) as again:
        after = await again.recv_until("assistant_message_completed")
    assert again.session_id == first.session_id
    created = {"session_id": first.session_id, "resumed": True, "locale": "pt-BR"}
    assert without(again.first["data"], "settings") == created
    assert again.first["seq"] == first.last_seq
    seqs = [f["seq"] for f in before + after]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert streamed_text(before + after) == "".join(WORDS)


async def test_a_reload_gets_the_history_then_the_running_reply(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as tab:
        await tab.reply_to("earlier question")
        model.script({"text": WORDS, "hold_after": 3, "gate": "reload"})
        await tab.say("current question")
        await tab.recv_until("ai_chunk", text="word2 ")
    async with Chat(resume_url(app, tab, None)) as reloaded:
        history = await reloaded.recv()
        model.release("reload")
        rest = await reloaded.recv_until("assistant_message_completed")
    assert history["event"] == "history"
    assert [without(m, "usage", "id") for m in history["data"]["messages"]] == [
        {"role": "user", "text": "earlier question", "stopped": False},
        {"role": "assistant", "text": "Echo: earlier question", "stopped": False},
        {"role": "user", "text": "current question", "stopped": False},
    ]
    assert history["seq"] == reloaded.first["seq"]
    assert streamed_text(rest) == "".join(WORDS)
    assert rest[0]["seq"] == history["seq"] + 1


async def test_two_tabs_on_one_conversation_both_see_the_reply(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as one:
        async with Chat(resume_url(app, one, one.last_seq)) as two:
            mine = await one.reply_to("shared")
            theirs = await two.recv_until("assistant_message_completed")
    assert mine == theirs
    assert streamed_text(theirs) == "Echo: shared"
    assert len(model.requests) == 1


async def test_an_unknown_session_id_starts_a_new_conversation(app: RunningApp) -> None:
    async with Chat(app.ws_url(session_id="nobody", last_seq="3")) as chat:
        frames = await chat.reply_to("hello")
    assert chat.session_id != "nobody"
    assert chat.first["seq"] == 1
    assert streamed_text(frames) == "Echo: hello"


async def test_cancel_mid_reply_keeps_the_partial_text_as_stopped(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"text": WORDS, "hold_after": 4, "gate": "cancel"})
    async with Chat(app.ws_url()) as chat:
        await chat.say("long answer")
        await chat.recv_until("ai_chunk", text="word3 ")
        await chat.send("cancel", {})
        frames = await chat.recv_until("assistant_message_completed")
        model.release("cancel")
        await chat.reply_to("next")
    assert ended(frames[-1]) == {"reason": "cancelled"}
    partial = "".join(WORDS[:4])
    assert model.requests[-1].body["messages"][1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": partial}],
    }
    detail = _get_json(app, f"/api/conversations/{chat.session_id}")
    assert without(detail["messages"][1], "id") == {
        "role": "assistant",
        "text": partial,
        "stopped": True,
    }


async def test_cancel_mid_write_leaves_no_file_and_no_temporary(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(TOOL_CHUNK_BYTES="256", MAX_FILE_BYTES="20000000")
    content = "x" * 8_000_000
    use = {
        "id": "toolu_big",
        "name": "create_file",
        "input": {"path": "big.txt", "content": content},
    }
    model.script({"text": ["Writing."], "tool_uses": [use]})
    async with Chat(app.ws_url()) as chat:
        await chat.say("write a big file")
        await chat.recv_until("tool_request")
        await chat.send("tool_approval", {"tool_use_id": "toolu_big", "approved": True})
        await chat.recv_until("tool_chunk")
        await chat.send("cancel", {})
        frames = await chat.recv_until("assistant_message_completed")
    assert ended(frames[-1]) == {"reason": "cancelled"}
    assert list(app.workspace.iterdir()) == []
    written = sum(len(f["data"]["chunk"]) for f in events(frames, "tool_chunk"))
    assert written < len(content)
    detail = _get_json(app, f"/api/conversations/{chat.session_id}")
    assert detail["pending_tool_calls"] == []


async def test_the_conversation_api_lists_shows_and_deletes(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as older:
        await older.reply_to("first conversation")
    async with Chat(app.ws_url()) as newer:
        await newer.reply_to("second conversation")
    listed: list[Frame] = json.loads(app.get("/api/conversations")[1])
    ids = [c["id"] for c in listed]
    assert ids.index(newer.session_id) < ids.index(older.session_id)
    assert listed[ids.index(newer.session_id)]["title"] == "second conversation"
    detail = _get_json(app, f"/api/conversations/{older.session_id}")
    assert [m["text"] for m in detail["messages"]] == [
        "first conversation",
        "Echo: first conversation",
    ]
    assert _request(app, "DELETE", f"/api/conversations/{older.session_id}") == 204
    assert _request(app, "GET", f"/api/conversations/{older.session_id}") == 404
    assert _request(app, "DELETE", f"/api/conversations/{older.session_id}") == 404
    assert len(model.requests) == 2


async def test_deleting_a_live_conversation_closes_its_sockets(app: RunningApp) -> None:
    async with Chat(app.ws_url()) as chat:
        await chat.reply_to("soon gone")
        assert _request(app, "DELETE", f"/api/conversations/{chat.session_id}") == 204
        assert chat.ws is not None
        await chat.ws.wait_closed()
    assert chat.ws.close_code == 4404


def _get_json(app: RunningApp, path: str) -> Frame:
    status, body = app.get(path)
    assert status == 200, body
    return json.loads(body)


def _request(app: RunningApp, method: str, path: str) -> int:
    request = urllib.request.Request(app.base_url + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
