"""Every content block Claude streams is kept as the SDK's own accumulator builds it, and goes
back to Claude as received: recorded streams (tests/streams/) replayed by the model server,
read by our bridge and by the SDK's `messages.stream` helper (`accumulate_event`) alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anthropic
import pytest

from gatehouse.llm import Claude, JsonDict
from gatehouse.settings import Settings
from tests.model_server import ModelServer
from tests.running_app import Chat, RunningApp, streamed_text

pytestmark = pytest.mark.anyio

STREAMS = Path(__file__).parent / "streams"
RECORDED = sorted(path.stem for path in STREAMS.glob("*.sse"))


def recorded(name: str) -> str:
    return (STREAMS / f"{name}.sse").read_text()


def without_none(value: Any) -> Any:
    """A value as the SDK's `to_dict(exclude_none=True)` gives it."""
    if isinstance(value, dict):
        return {k: without_none(v) for k, v in value.items() if v is not None}  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    if isinstance(value, list):
        return [without_none(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


async def sdk_reply(model: ModelServer, name: str) -> tuple[list[JsonDict], str | None]:
    """What the SDK's own accumulator makes of the recorded stream."""
    model.script({"sse": recorded(name)})
    async with anthropic.AsyncAnthropic(api_key="k", base_url=model.base_url) as sdk:
        async with sdk.messages.stream(
            model="m", max_tokens=5, messages=[{"role": "user", "content": name}]
        ) as stream:
            final = await stream.get_final_message()
    return [block.to_dict(exclude_none=True) for block in final.content], final.stop_reason


async def our_reply(model: ModelServer, name: str) -> tuple[list[JsonDict], str | None, str]:
    model.script({"sse": recorded(name)})
    settings = Settings(
        _env_file=None,  # pyright: ignore[reportCallIssue]
        anthropic_api_key="k",  # pyright: ignore[reportArgumentType]
        anthropic_base_url=model.base_url,
        anthropic_max_retries=0,
    )
    claude = Claude(settings)
    texts: list[str] = []
    try:
        reply = await claude.stream_reply([{"role": "user", "content": name}], [], texts.append)
    finally:
        await claude.aclose()
    return reply.content, reply.stop_reason, "".join(texts)


@pytest.mark.parametrize("name", RECORDED)
async def test_every_block_is_kept_as_the_sdks_accumulator_builds_it(
    model: ModelServer, name: str
) -> None:
    expected, expected_stop = await sdk_reply(model, name)
    content, stop_reason, text = await our_reply(model, name)
    assert without_none(content) == expected
    assert stop_reason == expected_stop
    assert text == "".join(b["text"] for b in expected if b["type"] == "text")


def test_the_recorded_streams_cover_every_block_and_delta_type() -> None:
    everything = "".join(recorded(name) for name in RECORDED)
    for kind in (
        '"thinking"',
        "signature_delta",
        "redacted_thinking",
        "tool_use",
        "server_tool_use",
        "web_search_tool_result",
        "citations_delta",
        "future_block",
    ):
        assert kind in everything


@pytest.mark.parametrize(
    "name", ["thinking_redacted_tool_use", "web_search_citations", "future_block"]
)
async def test_the_app_sends_every_block_back_to_claude_as_received(
    app: RunningApp, model: ModelServer, name: str
) -> None:
    expected, _ = await sdk_reply(model, name)
    model.reset()
    model.script({"sse": recorded(name)}, match=name)
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to(name)
        if not any(b["type"] == "tool_use" for b in expected):
            frames += await chat.reply_to("and then?")  # the history goes back with it
    assert frames[-1]["data"]["reason"] == "ok"
    assert streamed_text(frames).startswith("".join(b.get("text", "") for b in expected))
    sent_back: list[JsonDict] = model.requests[-1].body["messages"]
    assert sent_back[1] == {
        "role": "assistant",
        "content": [b for b in expected if not (b["type"] == "text" and not b["text"])],
    }
