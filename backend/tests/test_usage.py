"""Prompt caching, and the usage and cost of replies: sent, stored, summed, shown after a
restart, counted in /metrics. Every number comes from what the model server reported."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import anthropic
import pytest

from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, RunningApp, events

pytestmark = pytest.mark.anyio

TURNS = 10
# A turn of about 1,250 estimated tokens: longer than the API's minimum cacheable prefix.
PARAGRAPH = "The quick brown fox jumps over the lazy dog near the quiet river bank. " * 70
INPUT_KINDS = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


def _sent_usage(frames: list[dict[str, Any]]) -> dict[str, Any]:
    [completed] = events(frames, "assistant_message_completed")
    return completed["data"]["usage"]


def _stream_usage(model: ModelServer, **request: Any) -> Any:
    client = anthropic.Anthropic(base_url=model.base_url, api_key="sk-ant-test", max_retries=0)
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=100, **request) as stream:
        return stream.get_final_message().usage


def _marked(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}


async def test_model_server_writes_then_reads_a_cached_prefix_as_the_api_reports_it(
    model: ModelServer,
) -> None:
    system = [_marked(PARAGRAPH)]
    first = [{"role": "user", "content": [_marked("Hello " * 10)]}]
    written = _stream_usage(model, system=system, messages=first)
    assert written.cache_read_input_tokens == 0
    assert written.cache_creation_input_tokens > 0

    # The same prefix, and a new turn after it with its own breakpoint: the old one is read.
    longer = [
        {"role": "user", "content": [{"type": "text", "text": "Hello " * 10}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Hi."}]},
        {"role": "user", "content": [_marked("Again " * 10)]},
    ]
    read = _stream_usage(model, system=system, messages=longer)
    assert read.cache_read_input_tokens == written.cache_creation_input_tokens
    assert read.cache_creation_input_tokens > 0
    assert read.input_tokens < written.input_tokens + read.cache_creation_input_tokens

    plain = [{"role": "user", "content": "Hello " * 10}]
    unmarked = _stream_usage(model, system=PARAGRAPH, messages=plain)  # no breakpoint: no cache
    assert (unmarked.cache_read_input_tokens, unmarked.cache_creation_input_tokens) == (0, 0)


async def test_model_server_refuses_more_than_four_breakpoints_as_the_api_does(
    model: ModelServer,
) -> None:
    content = [_marked(f"part {n}") for n in range(5)]
    with pytest.raises(anthropic.BadRequestError, match="A maximum of 4 blocks with cache_control"):
        _stream_usage(model, messages=[{"role": "user", "content": content}])
    model.violations.clear()  # refused on purpose


async def test_a_ten_turn_conversation_reads_its_history_from_the_prompt_cache(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(PROMPT_CACHING="true")  # the product's default (the harness turns it off)
    sent: list[dict[str, Any]] = []
    async with Chat(app.ws_url()) as chat:
        for turn in range(TURNS):
            sent.append(_sent_usage(await chat.reply_to(f"Turn {turn}. {PARAGRAPH}")))
    reported = [request.usage for request in model.requests]
    assert [{k: u[k] for k in INPUT_KINDS} for u in sent] == reported
    body = model.requests[-1].body
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert all(u["cache_read_input_tokens"] > 0 for u in sent[1:]), sent
    read = sum(u["cache_read_input_tokens"] for u in sent)
    every = sum(u[kind] for u in sent for kind in INPUT_KINDS)
    cost = sum(u["cost_usd"] for u in sent)
    print(f"\ncache share of input tokens over {TURNS} turns: {read / every:.1%}; cost ${cost:.6f}")  # noqa: T201


async def test_prompt_caching_off_sends_no_breakpoint(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(PROMPT_CACHING="false")
    async with Chat(app.ws_url()) as chat:
        sent = [_sent_usage(await chat.reply_to(f"Turn {n}. {PARAGRAPH}")) for n in range(2)]
    assert "cache_control" not in json.dumps([r.body for r in model.requests])
    assert [u["cache_read_input_tokens"] for u in sent] == [0, 0]


SCRIPTED = {
    "input_tokens": 1000,
    "output_tokens": 500,
    "cache_read_input_tokens": 2000,
    "cache_creation_input_tokens": 4000,
}
# claude-sonnet-4-6 at USD 3 / 15 / 3.75 / 0.30 per million: 3000 + 7500 + 15000 + 600
SCRIPTED_COST = 0.0261


async def test_usage_and_cost_of_a_reply_are_sent_stored_and_shown_after_a_restart(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'usage.db'}"}
    use = {"id": "toolu_usage", "name": "create_file", "input": {"path": "a.txt", "content": "a"}}
    after_tool = {**SCRIPTED, "input_tokens": 10, "output_tokens": 20}
    model.script({"text": ["Writing."], "tool_uses": [use], "usage": SCRIPTED})
    model.script({"text": ["Done."], "usage": after_tool})
    model.script({"text": ["Second."], "usage": SCRIPTED}, match="second")
    first = app_factory(**env)
    async with Chat(first.ws_url()) as chat:
        await chat.say("write a.txt")
        await chat.recv_until("tool_request")
        await chat.send("tool_approval", {"tool_use_id": "toolu_usage", "approved": True})
        one_reply = _sent_usage(await chat.recv_until("assistant_message_completed"))
        second = _sent_usage(await chat.reply_to("second"))
        session_id = chat.session_id
    both_requests = {
        "input_tokens": 1010,
        "output_tokens": 520,
        "cache_read_input_tokens": 4000,
        "cache_creation_input_tokens": 8000,
        "cost_usd": 0.04203,  # 0.0261 + (10 × 3 + 20 × 15 + 4000 × 3.75 + 2000 × 0.3) / 1e6
        "model": "claude-sonnet-4-6",
    }
    assert one_reply == both_requests
    assert second == {**SCRIPTED, "cost_usd": SCRIPTED_COST, "model": "claude-sonnet-4-6"}
    first.stop()

    again = app_factory(**env)
    async with Chat(again.ws_url(session_id=session_id)) as chat:
        history = await chat.recv_until("history")
    replies = [m for m in history[-1]["data"]["messages"] if m["role"] == "assistant"]
    assert [m["usage"] for m in replies] == [one_reply, second]
    status, detail = again.get(f"/api/conversations/{session_id}")
    assert status == 200
    total = json.loads(detail)["usage"]
    assert total["input_tokens"] == 2010 and total["output_tokens"] == 1020
    assert total["cost_usd"] == 0.06813


FUTURE_PRICE = json.dumps(
    {"claude-future-9": {"input": 2, "output": 10, "cache_write": 2.5, "cache_read": 0.2}}
)


@pytest.mark.parametrize(
    ("env", "cost"),
    [
        ({}, None),  # no price for it: tokens counted, cost unknown
        ({"MODEL_PRICES": FUTURE_PRICE}, 0.0174),  # 2000 + 5000 + 10000 + 400 per million
    ],
    ids=["unpriced", "priced-by-setting"],
)
async def test_a_model_without_a_price_has_an_unknown_cost_until_one_is_set(
    app_factory: AppFactory, model: ModelServer, env: dict[str, str], cost: float | None
) -> None:
    app = app_factory(ANTHROPIC_MODEL="claude-future-9", **env)
    model.script({"text": ["Hi."], "usage": SCRIPTED})
    async with Chat(app.ws_url()) as chat:
        usage = _sent_usage(await chat.reply_to("hello"))
    assert usage.get("cost_usd") == cost
    assert usage["input_tokens"] == SCRIPTED["input_tokens"]
    metrics = _metrics(app)
    assert 'gatehouse_tokens_total{kind="cache_read",model="claude-future-9"} 2000.0' in metrics
    if cost is None:
        assert 'gatehouse_unpriced_replies_total{model="claude-future-9"} 1.0' in metrics
    else:
        assert f'gatehouse_cost_usd_total{{model="claude-future-9"}} {cost}' in metrics


def _metrics(app: RunningApp) -> str:
    with urllib.request.urlopen(app.base_url + "/metrics", timeout=5) as response:
        return response.read().decode()
