"""What Claude streamed goes back to it exactly, round after round: thinking and
redacted_thinking blocks with their signatures, and a server tool's blocks across a
`pause_turn`. Recorded streams (tests/streams/) replayed by the local model server, which
refuses, as the API does, a thinking block that is not the one it sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest

from tests.model_server import THINKING_CHANGED, ModelServer, request_problems
from tests.running_app import Chat, RunningApp, ended, events, streamed_text

pytestmark = pytest.mark.anyio

STREAMS = Path(__file__).parent / "streams"
JsonDict = dict[str, Any]


def recorded(name: str) -> str:
    return (STREAMS / f"{name}.sse").read_text()


def blocks_started(sse: str) -> list[JsonDict]:
    """The stream's blocks as they start, with the deltas a thinking block receives: what the
    server sent, read independently of the app."""
    blocks: list[JsonDict] = []
    for line in sse.splitlines():
        if not line.startswith("data:"):
            continue
        event: JsonDict = json.loads(line[5:])
        if event["type"] == "content_block_start":
            started: JsonDict = event["content_block"]
            blocks.append(dict(started))
        elif event["type"] == "content_block_delta":
            index: int = event["index"]
            block, delta = blocks[index], cast(JsonDict, event["delta"])
            if delta["type"] == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
    return blocks


def thinking_of(sse: str) -> list[JsonDict]:
    return [b for b in blocks_started(sse) if b["type"] in ("thinking", "redacted_thinking")]


def second_round(sse: str) -> str:
    """The same shape with other thinking, other signatures and another call id."""
    for old, new in (
        ("Let me look that up.", "Now the other city."),
        ("EqQBCgIYAhIMsig", "EqQBCgIYAhIMsig-two"),
        ("EmwKAhgBEgy3va3pzix", "EmwKAhgBEgy3va3pzix-two"),
        ("toolu_01X", "toolu_02Y"),
        ("Paris", "Lyon"),
    ):
        sse = sse.replace(old, new)
    return sse


async def test_thinking_blocks_go_back_unchanged_and_first_on_every_later_request(
    app: RunningApp, model: ModelServer
) -> None:
    # Two rounds of thinking + a call of a tool the app does not offer (answered by itself,
    # so the reply goes on), then thinking + the answer.
    rounds = [
        recorded("thinking_redacted_tool_use"),
        second_round(recorded("thinking_redacted_tool_use")),
        recorded("thinking_text"),
    ]
    for sse in rounds:
        model.script({"sse": sse})
    async with Chat(app.ws_url(locale="en")) as chat:
        frames = await chat.reply_to("weather in two cities")
        await chat.reply_to("thanks")
    assert ended(frames[-1]) == {"reason": "ok"}
    assert streamed_text(frames) == "The greatest common divisor of 1071 and 462 is **21**."
    assert len(model.requests) == 4
    sent = [thinking_of(sse) for sse in rounds]
    assert [b["signature"] for b in sent[0] if b["type"] == "thinking"] == ["EqQBCgIYAhIMsig"]
    for number, request in enumerate(model.requests[1:], start=1):
        replies = [m["content"] for m in request.body["messages"] if m["role"] == "assistant"]
        assert len(replies) == number
        for reply, thinking in zip(replies, sent, strict=False):
            # byte for byte, in order, at the start of the assistant message
            assert reply[: len(thinking)] == thinking
            assert json.dumps(reply[: len(thinking)]) == json.dumps(thinking)


def test_the_model_server_refuses_a_thinking_block_changed_or_not_sent() -> None:
    sent = thinking_of(recorded("thinking_redacted_tool_use"))
    issued = {
        f"thinking:{sent[0]['signature']}": sent[0],
        f"redacted_thinking:{sent[1]['data']}": sent[1],
    }
    use: JsonDict = {"type": "tool_use", "id": "toolu_01X", "name": "get_weather", "input": {}}
    result = {"type": "tool_result", "tool_use_id": "toolu_01X", "content": "sunny"}

    def body(*thinking: JsonDict) -> JsonDict:
        messages: list[JsonDict] = [
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": [*thinking, use]},
            {"role": "user", "content": [result]},
        ]
        return {"messages": messages}

    assert request_problems(body(*sent), issued) == []
    edited = {**sent[0], "thinking": sent[0]["thinking"] + " "}
    unsigned = {"type": "thinking", "thinking": sent[0]["thinking"]}
    forged = {"type": "redacted_thinking", "data": "EmwKAhgBEgyFORGED"}
    assert request_problems(body(edited, sent[1]), issued) == [
        f"messages.1.content.0: {THINKING_CHANGED}"
    ]
    assert request_problems(body(unsigned), issued) == [
        "messages.1.content.0.thinking.signature: Field required"
    ]
    assert request_problems(body(sent[0], forged), issued) == [
        f"messages.1.content.1: {THINKING_CHANGED}"
    ]


async def test_a_server_tool_turn_paused_goes_on_by_itself_with_its_blocks_handed_back(
    app: RunningApp, model: ModelServer
) -> None:
    paused, resumed = recorded("web_search_paused"), recorded("web_search_resumed")
    model.script({"sse": paused})
    model.script({"sse": resumed})
    async with Chat(app.ws_url(locale="en")) as chat:
        frames = await chat.reply_to("quantum news?")
        await chat.reply_to("thanks")
    assert [ended(f) for f in events(frames, "assistant_message_completed")] == [{"reason": "ok"}]
    assert not events(frames, "tool_request")  # Claude's own tool: nothing to approve
    assert streamed_text(frames) == (
        "I'll search for that.A logical qubit ran below the error threshold for minutes."
    )
    searched = blocks_started(paused)
    searched[1]["input"] = {"query": "quantum computing breakthroughs 2026"}  # as streamed
    searched[0]["text"] = "I'll search for that."
    assert searched[1]["type"] == "server_tool_use"
    assert searched[2]["type"] == "web_search_tool_result"
    # The paused reply goes back as the last message, exactly, its search's input included.
    assert model.requests[1].body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "quantum news?"}]},
        {"role": "assistant", "content": searched},
    ]
    # Later, the whole reply, with the cited answer, is one assistant message.
    answer = model.requests[2].body["messages"][1]
    assert answer["content"][:3] == searched
    [cited] = answer["content"][3:]
    assert cited["text"] == "A logical qubit ran below the error threshold for minutes."
    assert [c["encrypted_index"] for c in cited["citations"]] == [
        "Eo8BCioIAhgBIiQyYjQ0OWJm",
        "EpABCioIAhgBIiQ3NDVm",
    ]
