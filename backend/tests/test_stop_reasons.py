"""Claude's stop_reason acted on, end to end: a reply cut at the token limit (and Continue), a
refusal, and a paused turn continued by itself. Real app, real SDK, local model server."""

from __future__ import annotations

import pytest

from gatehouse.turn import MAX_PAUSES
from tests.model_server import ModelServer
from tests.running_app import Chat, RunningApp, events, streamed_text

pytestmark = pytest.mark.anyio


def _user(text: str) -> dict[str, object]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def _assistant(text: str) -> dict[str, object]:
    return {"role": "assistant", "content": [{"type": "text", "text": text}]}


async def test_a_reply_cut_at_max_tokens_is_marked_and_continue_goes_on_with_it(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"text": ["The answer ", "is "], "stop_reason": "max_tokens"})
    model.script({"text": ["forty-two."]})
    async with Chat(app.ws_url()) as chat:
        cut = await chat.reply_to("question")
        await chat.send("continue", {})
        continued = await chat.recv_until("assistant_message_completed")
        await chat.reply_to("next")
    assert cut[-1]["data"] == {"reason": "ok", "stop_reason": "max_tokens"}
    assert continued[-1]["data"] == {"reason": "ok"}
    assert streamed_text(continued) == "forty-two."
    # The continuation request ends with the cut reply (prefill), its trailing space dropped.
    assert model.requests[1].body["messages"] == [_user("question"), _assistant("The answer is")]
    # The continued text joined the cut reply: one assistant message, as Claude wrote it.
    assert model.requests[2].body["messages"] == [
        _user("question"),
        _assistant("The answer is forty-two."),
        _user("next"),
    ]


async def test_a_tool_call_cut_at_max_tokens_never_runs_and_the_history_stays_valid(
    app: RunningApp, model: ModelServer
) -> None:
    cut_call = {"id": "toolu_cut", "name": "create_file", "input": {"path": "a.txt"}}
    model.script({"text": ["Writing it"], "tool_uses": [cut_call], "stop_reason": "max_tokens"})
    async with Chat(app.ws_url()) as chat:
        cut = await chat.reply_to("write a file")
        await chat.send("continue", {})
        continued = await chat.recv_until("assistant_message_completed")
    assert not events(cut + continued, "tool_request")
    assert cut[-1]["data"] == {"reason": "ok", "stop_reason": "max_tokens"}
    assert model.requests[1].body["messages"] == [_user("write a file"), _assistant("Writing it")]
    assert continued[-1]["data"] == {"reason": "ok"}  # the model fixture checks every request


async def test_continue_with_no_cut_reply_is_refused(app: RunningApp, model: ModelServer) -> None:
    async with Chat(app.ws_url()) as chat:
        await chat.reply_to("hello")
        await chat.send("continue", {})
        refused = await chat.recv_until("error")
    assert refused[-1]["data"]["detail"] == {"code": "nothing_to_continue"}
    assert len(model.requests) == 1


async def test_a_refusal_is_marked_and_cannot_be_continued(
    app: RunningApp, model: ModelServer
) -> None:
    declined = {"id": "toolu_declined", "name": "create_file", "input": {"path": "b.txt"}}
    model.script({"text": ["I will"], "tool_uses": [declined], "stop_reason": "refusal"})
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to("something bad")
        await chat.send("continue", {})
        refused = await chat.recv_until("error")
        await chat.reply_to("something else")
    assert frames[-1]["data"] == {"reason": "ok", "stop_reason": "refusal"}
    assert not events(frames, "tool_request")
    assert refused[-1]["data"]["detail"] == {"code": "nothing_to_continue"}
    assert model.requests[-1].body["messages"] == [
        _user("something bad"),
        _assistant("I will"),
        _user("something else"),
    ]


async def test_a_paused_turn_is_continued_with_its_content_as_is(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"text": ["Searching."], "stop_reason": "pause_turn"})
    model.script({"text": [" Found it."]})
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to("look it up")
    assert len(events(frames, "assistant_message_completed")) == 1
    assert frames[-1]["data"] == {"reason": "ok"}
    assert streamed_text(frames) == "Searching. Found it."
    # No user message is added: the paused content goes back as the last message.
    assert model.requests[1].body["messages"] == [_user("look it up"), _assistant("Searching.")]
    assert len(model.requests) == 2


async def test_a_turn_that_keeps_pausing_is_continued_a_bounded_number_of_times(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"text": ["more."], "stop_reason": "pause_turn"}, times=MAX_PAUSES + 5)
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to("loop")
    assert frames[-1]["data"] == {"reason": "ok"}
    assert len(model.requests) == 1 + MAX_PAUSES


async def test_a_paused_reply_that_asks_for_a_tool_gets_the_call_first(
    app: RunningApp, model: ModelServer
) -> None:
    call = {"id": "toolu_paused", "name": "create_file", "input": {"path": "p.txt", "content": "x"}}
    model.script({"text": ["Writing."], "tool_uses": [call], "stop_reason": "pause_turn"})
    async with Chat(app.ws_url()) as chat:
        await chat.say("paused with a tool")
        asked = await chat.recv_until("tool_request")
        await chat.send("tool_approval", {"tool_use_id": "toolu_paused", "approved": False})
        frames = await chat.recv_until("assistant_message_completed")
    assert events(asked, "tool_request")[0]["data"]["id"] == "toolu_paused"
    assert frames[-1]["data"] == {"reason": "ok"}
    assert model.requests[1].body["messages"][-1]["content"][0]["tool_use_id"] == "toolu_paused"
