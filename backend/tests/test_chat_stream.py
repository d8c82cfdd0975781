"""Streaming text replies end to end: real app, real WebSocket, real SDK, local model server."""

from __future__ import annotations

import pytest

from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, RunningApp, ended, events, streamed_text

pytestmark = pytest.mark.anyio


async def test_session_created_is_the_first_frame_and_seq_rises_by_one(app: RunningApp) -> None:
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to("hello")
    assert chat.session_id
    assert [f["seq"] for f in frames] == list(range(2, 2 + len(frames)))


async def test_chunks_arrive_in_order_between_typing_flags(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"text": ["Olá", ", ", "mundo", "!"]})
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to("oi")
    names = [f["event"] for f in frames]
    assert names == [
        "status_update",
        "ai_chunk",
        "ai_chunk",
        "ai_chunk",
        "ai_chunk",
        "status_update",
        "assistant_message_completed",
    ]
    assert [f["data"]["text"] for f in events(frames, "ai_chunk")] == ["Olá", ", ", "mundo", "!"]
    assert frames[0]["data"] == {"ai_typing": True}
    assert frames[-2]["data"] == {"ai_typing": False}
    assert ended(frames[-1]) == {"reason": "ok"}


async def test_the_second_turn_sends_the_whole_history(app: RunningApp, model: ModelServer) -> None:
    async with Chat(app.ws_url()) as chat:
        first = await chat.reply_to("first question")
        await chat.reply_to("second question")
    assert streamed_text(first) == "Echo: first question"
    sent = model.requests[-1].body
    assert sent["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "first question"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Echo: first question"}]},
        {"role": "user", "content": [{"type": "text", "text": "second question"}]},
    ]
    assert sent["stream"] is True
    assert sent["system"]
    assert sent["model"] == "claude-sonnet-4-6"


async def test_the_request_carries_the_key_and_tools(app: RunningApp, model: ModelServer) -> None:
    async with Chat(app.ws_url()) as chat:
        await chat.reply_to("hi")
    request = model.requests[-1]
    assert request.headers["authorization"] == "Bearer sk-ant-test"
    assert "create_file" in [tool["name"] for tool in request.body["tools"]]


async def test_sessions_do_not_share_history(app: RunningApp, model: ModelServer) -> None:
    async with Chat(app.ws_url()) as alice, Chat(app.ws_url()) as bob:
        await alice.reply_to("alice secret")
        await bob.reply_to("bob question")
    assert alice.session_id != bob.session_id
    assert "alice secret" not in str(model.requests[-1].body["messages"])


async def test_a_message_during_a_reply_is_refused_as_busy(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"text": ["one ", "two"], "hold_after": 1, "gate": "busy"})
    async with Chat(app.ws_url()) as chat:
        await chat.say("first")
        await chat.recv_until("ai_chunk")
        await chat.say("second")
        refused = await chat.recv_until("error")
        model.release("busy")
        rest = await chat.recv_until("assistant_message_completed")
    assert {"busy": True} in [f["data"] for f in events(refused, "status_update")]
    assert refused[-1]["data"]["detail"]["code"] == "busy"
    assert refused[-1]["data"]["message"] == "Aguarde: a resposta anterior ainda está em andamento."
    statuses = [f["data"] for f in events(rest, "status_update")]
    assert statuses[-1] == {"busy": False}
    assert streamed_text(rest) == "two"
    assert len(model.requests) == 1


async def test_a_client_that_leaves_mid_reply_does_not_stop_others(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"text": ["never ", "finished"], "hold_after": 1, "gate": "left"}, match="leaver")
    async with Chat(app.ws_url()) as stayer:
        async with Chat(app.ws_url()) as leaver:
            await leaver.say("leaver")
            await leaver.recv_until("ai_chunk")
        frames = await stayer.reply_to("still here?")
        model.release("left")
    assert streamed_text(frames) == "Echo: still here?"


async def test_too_long_a_message_is_refused(app_factory: AppFactory, model: ModelServer) -> None:
    app = app_factory(MAX_MESSAGE_CHARS="10")
    async with Chat(app.ws_url(locale="en")) as chat:
        frames = await chat.reply_to("x" * 11)
        ok = await chat.reply_to("short")
    error = events(frames, "error")[0]["data"]
    assert error["detail"]["code"] == "message_too_long"
    assert error["message"] == "Message too long."
    assert streamed_text(ok) == "Echo: short"
    assert len(model.requests) == 1


async def test_a_lone_surrogate_from_claude_reaches_the_person_as_a_replacement_character(
    app: RunningApp, model: ModelServer
) -> None:
    # JSON can carry "\ud800" (the model server writes it as that escape); UTF-8 cannot.
    model.script({"text": ["a\ud800b", " é"]})
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to("hi")
        await chat.reply_to("again")
    assert [f["data"]["text"] for f in events(frames, "ai_chunk")] == ["a\ufffdb", " é"]
    assert ended(frames[-1]) == {"reason": "ok"}
    stored = model.requests[-1].body["messages"][1]
    assert stored == {"role": "assistant", "content": [{"type": "text", "text": "a\ufffdb é"}]}
