"""Extended thinking, end to end: the request asks for it as the model takes it, the thinking
streams to the person as `ai_thinking`, and its blocks go back to Claude exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.model_server import ModelServer, thinking_signature
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

BUDGET = 4096  # THINKING_BUDGET_TOKENS' default
MAX_TOKENS = 4096  # MAX_TOKENS' default


def thinking_text(frames: list[Frame]) -> str:
    return "".join(f["data"]["text"] for f in events(frames, "ai_thinking"))


async def configure(chat: Chat, **data: Any) -> Frame:
    await chat.send("configure", data)
    frames = await chat.recv_until("conversation_settings")
    return frames[-1]


async def test_thinking_streams_before_the_answer_and_comes_back_with_the_history(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"thinking": ["Six times ", "seven..."], "text": ["It is ", "42."]})
    async with Chat(app.ws_url()) as chat:
        await configure(chat, thinking=True)
        frames = await chat.reply_to("What is 6 × 7?")
        await chat.reply_to("thanks")  # the reply before the last one comes as history
    names = [f["event"] for f in frames if f["event"] in ("ai_thinking", "ai_chunk")]
    assert names == ["ai_thinking", "ai_thinking", "ai_chunk", "ai_chunk"]
    assert thinking_text(frames) == "Six times seven..."
    assert streamed_text(frames) == "It is 42."
    body = model.requests[0].body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": BUDGET, "display": "summarized"}
    assert body["max_tokens"] == MAX_TOKENS + BUDGET  # the budget stays below max_tokens

    async with Chat(app.ws_url(session_id=chat.session_id)) as back:
        history = (await back.recv_until("history"))[-1]
    reply = without(history["data"]["messages"][1], "usage", "id")
    assert reply == {
        "role": "assistant",
        "text": "It is 42.",
        "stopped": False,
        "thinking": "Six times seven...",
    }


async def test_thinking_off_asks_for_none_and_streams_none(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"thinking": ["hidden"], "text": ["Plain."]})
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to("hello")
    assert "thinking" not in model.requests[-1].body
    assert model.requests[-1].body["max_tokens"] == MAX_TOKENS
    assert events(frames, "ai_thinking") == []


async def test_a_model_that_refuses_enabled_thinking_gets_adaptive_thinking(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"thinking": ["Adaptive."], "text": ["Done."]}, times=2)
    async with Chat(app.ws_url()) as chat:
        await configure(chat, model="claude-opus-4-8", thinking=True)
        frames = await chat.reply_to("first")
        assert thinking_text(frames) == "Adaptive."
        assert events(frames, "error") == []
        asked = [r.body["thinking"] for r in model.requests]
        assert asked == [
            {"type": "enabled", "budget_tokens": BUDGET, "display": "summarized"},
            {"type": "adaptive", "display": "summarized"},
        ]
        model.requests.clear()
        second = await chat.reply_to("second")  # learnt: no refused request this time
    assert thinking_text(second) == "Adaptive."
    assert [r.body["thinking"]["type"] for r in model.requests] == ["adaptive"]
    assert all(r.body["model"] == "claude-opus-4-8" for r in model.requests)


async def test_thinking_and_tool_use_over_several_rounds_hand_the_blocks_back_exactly(
    app: RunningApp, model: ModelServer
) -> None:
    first = {
        "id": "toolu_think_1",
        "name": "create_file",
        "input": {"path": "a.txt", "content": "A"},
    }
    second = {
        "id": "toolu_think_2",
        "name": "create_file",
        "input": {"path": "b.txt", "content": "B"},
    }
    model.script({"thinking": ["Write a ", "first."], "tool_uses": [first]})
    model.script({"thinking": ["Now the ", "second."], "tool_uses": [second]}, match="a.txt")
    model.script({"thinking": ["All done."], "text": ["Both written."]}, match="b.txt")
    async with Chat(app.ws_url()) as chat:
        await configure(chat, thinking=True)
        await chat.say("write two files")
        for call in (first, second):
            await chat.recv_until("tool_request", id=call["id"])
            await chat.send("tool_approval", {"tool_use_id": call["id"], "approved": True})
        frames = await chat.recv_until("assistant_message_completed")
    assert ended(frames[-1]) == {"reason": "ok"}
    assert streamed_text(frames) == "Both written."
    assert (app.workspace / "b.txt").read_text() == "B"
    last = model.requests[-1].body["messages"]
    assistant = [m["content"] for m in last if m["role"] == "assistant"]
    assert [blocks[0] for blocks in assistant] == [
        {"type": "thinking", "thinking": text, "signature": thinking_signature(text)}
        for text in ("Write a first.", "Now the second.")
    ]
    assert all(r.body["thinking"]["type"] == "enabled" for r in model.requests)


async def test_a_settings_change_during_a_reply_applies_to_the_next_one(
    app: RunningApp, model: ModelServer
) -> None:
    use = {"id": "toolu_plain", "name": "create_file", "input": {"path": "p.txt", "content": "P"}}
    model.script({"text": ["Writing."], "tool_uses": [use]})
    model.script({"thinking": ["Now on."], "text": ["Next."]}, match="again")
    async with Chat(app.ws_url()) as chat:
        await chat.say("write p.txt")
        await chat.recv_until("tool_request")
        await configure(chat, thinking=True)  # while the reply waits: for the next one
        await chat.send("tool_approval", {"tool_use_id": "toolu_plain", "approved": True})
        finished = await chat.recv_until("assistant_message_completed")
        assert ended(finished[-1]) == {"reason": "ok"}
        assert [("thinking" in r.body) for r in model.requests] == [False, False]
        frames = await chat.reply_to("again")
    assert thinking_text(frames) == "Now on."
    assert model.requests[-1].body["thinking"]["type"] == "enabled"


async def test_thinking_on_by_default_with_the_setting(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(THINKING="true", THINKING_BUDGET_TOKENS="2048")
    model.script({"thinking": ["Default on."], "text": ["Yes."]})
    async with Chat(app.ws_url()) as chat:
        assert chat.first["data"]["settings"] == {"model": "claude-sonnet-4-6", "thinking": True}
        frames = await chat.reply_to("hi")
    assert thinking_text(frames) == "Default on."
    body = model.requests[-1].body
    assert body["thinking"]["budget_tokens"] == 2048
    assert body["max_tokens"] == MAX_TOKENS + 2048


async def test_a_round_begun_without_thinking_finishes_without_it_after_a_restart(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'kept.db'}"}
    use = {"id": "toolu_kept", "name": "create_file", "input": {"path": "k.txt", "content": "K"}}
    model.script({"text": ["Writing."], "tool_uses": [use]})
    first = app_factory(**env)
    async with Chat(first.ws_url()) as chat:
        await chat.say("write k.txt")
        await chat.recv_until("tool_request")
        await configure(chat, thinking=True)
    first.stop()
    model.requests.clear()

    second = app_factory(**env)
    async with Chat(second.ws_url(session_id=chat.session_id)) as back:
        assert back.first["data"]["settings"]["thinking"] is True
        await back.recv_until("tool_request")
        await back.send("tool_approval", {"tool_use_id": "toolu_kept", "approved": True})
        frames = await back.recv_until("assistant_message_completed")
    assert ended(frames[-1]) == {"reason": "ok"}
    # The API refuses thinking on a round whose assistant message has none (the model
    # server too: the `model` fixture fails the test on such a request).
    assert ["thinking" in r.body for r in model.requests] == [False]
