"""Claude's stop_reason acted on, end to end: a reply cut at the token limit (and Continue, with
a prefill or, for a model that refuses one, from a user turn), a refusal, both marks kept
across a restart, and a paused turn continued by itself. Real app, real SDK, local model
server (whose default model, like the app's, refuses a prefill)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatehouse.turn import CONTINUE_TEXT, MAX_PAUSES
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

TAKES_PREFILL = "claude-sonnet-4-5"  # a model before 4.6: it goes on from its own message
STREAMS = Path(__file__).parent / "streams"


def _user(text: str) -> dict[str, object]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def _assistant(text: str) -> dict[str, object]:
    return {"role": "assistant", "content": [{"type": "text", "text": text}]}


def _bubbles(history: Frame) -> list[dict[str, object]]:
    assert history["event"] == "history", history
    return [without(message, "usage", "id") for message in history["data"]["messages"]]


@pytest.fixture
def prefill_app(app_factory: AppFactory) -> RunningApp:
    return app_factory(ANTHROPIC_MODEL=TAKES_PREFILL)


async def test_a_reply_cut_at_max_tokens_is_marked_and_continue_goes_on_with_it(
    prefill_app: RunningApp, model: ModelServer
) -> None:
    app = prefill_app
    model.script({"text": ["The answer ", "is "], "stop_reason": "max_tokens"})
    model.script({"text": ["forty-two."]})
    async with Chat(app.ws_url()) as chat:
        cut = await chat.reply_to("question")
        await chat.send("continue", {})
        continued = await chat.recv_until("assistant_message_completed")
        await chat.reply_to("next")
    assert ended(cut[-1]) == {"reason": "ok", "stop_reason": "max_tokens"}
    assert ended(continued[-1]) == {"reason": "ok"}
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
    prefill_app: RunningApp, model: ModelServer
) -> None:
    app = prefill_app
    cut_call = {"id": "toolu_cut", "name": "create_file", "input": {"path": "a.txt"}}
    model.script({"text": ["Writing it"], "tool_uses": [cut_call], "stop_reason": "max_tokens"})
    async with Chat(app.ws_url()) as chat:
        cut = await chat.reply_to("write a file")
        await chat.send("continue", {})
        continued = await chat.recv_until("assistant_message_completed")
    assert not events(cut + continued, "tool_request")
    assert ended(cut[-1]) == {"reason": "ok", "stop_reason": "max_tokens"}
    assert model.requests[1].body["messages"] == [_user("write a file"), _assistant("Writing it")]
    assert ended(continued[-1]) == {"reason": "ok"}  # the model fixture checks every request


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
    assert ended(frames[-1]) == {"reason": "ok", "stop_reason": "refusal"}
    assert not events(frames, "tool_request")
    assert refused[-1]["data"]["detail"] == {"code": "nothing_to_continue"}
    assert model.requests[-1].body["messages"] == [
        _user("something bad"),
        _assistant("I will"),
        _user("something else"),
    ]


async def test_a_turn_that_keeps_pausing_is_continued_a_bounded_number_of_times(
    app: RunningApp, model: ModelServer
) -> None:
    paused = (STREAMS / "web_search_paused.sse").read_text()
    model.script({"sse": paused}, times=MAX_PAUSES + 5)
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to("loop")
    assert ended(frames[-1]) == {"reason": "ok"}
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
    assert ended(frames[-1]) == {"reason": "ok"}
    assert model.requests[1].body["messages"][-1]["content"][0]["tool_use_id"] == "toolu_paused"


async def test_continue_for_a_model_that_refuses_prefill_asks_in_a_hidden_user_turn(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"text": ["The answer ", "is "], "stop_reason": "max_tokens"})
    model.script({"text": ["forty-two."]})
    async with Chat(app.ws_url()) as chat:
        await chat.reply_to("question")
        await chat.send("continue", {})
        continued = await chat.recv_until("assistant_message_completed")
        await chat.reply_to("next")
    async with Chat(app.ws_url(session_id=chat.session_id)) as reloaded:
        history = await reloaded.recv()
    assert ended(continued[-1]) == {"reason": "ok"}
    assert not events(continued, "error")
    assert streamed_text(continued) == "forty-two."
    # The app's model is known to refuse a prefill: it was never sent one.
    assert model.prefill_refusals == 0
    asked = {"role": "user", "content": [{"type": "text", "text": CONTINUE_TEXT}]}
    assert model.requests[1].body["messages"] == [
        _user("question"),
        _assistant("The answer is "),
        asked,
    ]
    assert model.requests[2].body["messages"] == [
        _user("question"),
        _assistant("The answer is "),
        asked,
        _assistant("forty-two."),
        _user("next"),
    ]
    # The person never sees the request to go on: the continuation joins the cut reply. (The
    # last turn, "next", comes after the history, as its frames.)
    assert _bubbles(history) == [
        {"role": "user", "text": "question", "stopped": False},
        {"role": "assistant", "text": "The answer is forty-two.", "stopped": False},
        {"role": "user", "text": "next", "stopped": False},
    ]


async def test_a_prefill_refused_with_a_400_is_retried_from_a_user_turn_and_remembered(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(ANTHROPIC_MODEL="claude-test-no-prefill")  # no rule names this model
    model.script({"text": ["One, "], "stop_reason": "max_tokens"})
    model.script({"text": ["two, "], "stop_reason": "max_tokens"})
    model.script({"text": ["three."]})
    async with Chat(app.ws_url()) as chat:
        await chat.reply_to("count")
        await chat.send("continue", {})
        first = await chat.recv_until("assistant_message_completed")
        await chat.send("continue", {})
        second = await chat.recv_until("assistant_message_completed")
    assert ended(first[-1]) == {"reason": "ok", "stop_reason": "max_tokens"}
    assert ended(second[-1]) == {"reason": "ok"}
    assert not events(first + second, "error")
    assert streamed_text(first + second) == "two, three."
    # One prefill was tried and refused; the second Continue went straight to a user turn.
    assert model.prefill_refusals == 1
    assert len(model.requests) == 4
    assert model.requests[1].body["messages"][-1] == _assistant("One,")
    asked = {"role": "user", "content": [{"type": "text", "text": CONTINUE_TEXT}]}
    assert model.requests[3].body["messages"] == [
        _user("count"),
        _assistant("One, "),
        asked,
        _assistant("two, "),
        asked,
    ]


async def test_cut_and_refusal_marks_survive_a_restart_and_continue_works_after_it(
    app_factory: AppFactory, model: ModelServer, kept_env: dict[str, str]
) -> None:
    env = kept_env
    model.script({"text": ["I will not"], "stop_reason": "refusal"}, match="bad")
    model.script({"text": ["Once upon "], "stop_reason": "max_tokens"}, match="story")
    first = app_factory(**env)
    async with Chat(first.ws_url()) as chat:
        await chat.reply_to("something bad")
        await chat.reply_to("a story")
    first.stop()

    second = app_factory(**env)
    model.script({"text": ["a time."]})
    async with Chat(second.ws_url(session_id=chat.session_id)) as back:
        restored = await back.recv()
        await back.send("continue", {})
        continued = await back.recv_until("assistant_message_completed")
    status, body = second.get(f"/api/conversations/{chat.session_id}")
    assert _bubbles(restored) == [
        {"role": "user", "text": "something bad", "stopped": False},
        {"role": "assistant", "text": "I will not", "stopped": False, "stop_reason": "refusal"},
        {"role": "user", "text": "a story", "stopped": False},
        {"role": "assistant", "text": "Once upon ", "stopped": False, "stop_reason": "max_tokens"},
    ]
    assert ended(continued[-1]) == {"reason": "ok"}
    assert streamed_text(continued) == "a time."
    # As stored: the request to go on is not shown, the continuation joins the cut reply.
    assert status == 200
    after = json.loads(body)["messages"]
    assert after[1]["stop_reason"] == "refusal"
    assert [without(message, "usage", "id") for message in after[2:]] == [
        {"role": "user", "text": "a story", "stopped": False},
        {"role": "assistant", "text": "Once upon a time.", "stopped": False},
    ]
