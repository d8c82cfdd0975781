"""The Claude bridge: one streamed reply from the Messages API through the official SDK.

Text deltas are handed to a callback as they arrive (no batching, so the first token is not
delayed). Every failure leaves as a `ModelError`, including a stream that ends without
`message_stop`, which is an error, not a short reply.

Everything on the wire is the SDK's: its client sends the request (auth, retries, HTTP errors,
TLS, proxies from the environment) over its own aiohttp transport (`http_client`), and its SSE
decoder splits the body into events (`AsyncStream.raw_events`). Each event is then taken as
plain JSON and folded into `_Blocks`, not into the SDK's typed snapshot: `messages.stream`
builds typed models for every delta and re-parses a tool call's whole input on each of its
deltas, several times the CPU per delta (bench/results/FINDINGS.md). `_Blocks` keeps every
content block as received, in linear time, and is held equal to the SDK's `accumulate_event`
by tests/test_stream_blocks.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

import anthropic
import httpx2
import orjson
from anthropic.types import MessageParam, ToolParam

from gatehouse import metrics
from gatehouse.errors import ModelError, classify_model_exception
from gatehouse.sanitise import clean_text
from gatehouse.settings import Settings

JsonDict = dict[str, Any]
TextSink = Callable[[str], None]  # called once per text delta; it must not block

# The SDK's default caps one process at 1,000 connections: one reply holds one connection,
# and a thousand replies at once is a load the server is built for.
CONNECTION_LIMITS = httpx2.Limits(max_connections=10_000, max_keepalive_connections=1_000)
TOOL_INPUT_BLOCKS = frozenset({"tool_use", "server_tool_use"})  # their input streams as JSON
RetrySink = Callable[[bool], None]  # True when the SDK retries a reply's request, False after
# Called with (tool_use_id, name, fragment) for each piece of a tool call's input JSON.
ToolInputSink = Callable[[str, str, str], None]

# The SDK retries inside its client; the request hook runs in the task of the reply that asked,
# so this variable tells it whose request is being retried.
_on_retry: ContextVar[Callable[[], None] | None] = ContextVar("on_retry", default=None)


@dataclass(frozen=True)
class Reply:
    """A complete assistant turn, as content blocks ready to go back into the history."""

    content: list[JsonDict]
    stop_reason: str | None

    def tool_uses(self) -> list[JsonDict]:
        return [block for block in self.content if block.get("type") == "tool_use"]


class Claude:
    def __init__(self, settings: Settings) -> None:
        key = settings.anthropic_api_key
        self._has_key = key is not None
        self._settings = settings
        timeout = httpx2.Timeout(settings.anthropic_timeout_s, connect=10.0)
        self._client = anthropic.AsyncAnthropic(
            api_key=key.get_secret_value() if key is not None else "unset",
            base_url=settings.anthropic_base_url,
            timeout=timeout,
            max_retries=settings.anthropic_max_retries,
            http_client=http_client(timeout),
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def stream_reply(
        self,
        history: Sequence[JsonDict],
        tools: Sequence[JsonDict],
        on_text: TextSink,
        on_retry: RetrySink | None = None,
        on_tool_input: ToolInputSink | None = None,
    ) -> Reply:
        """One streamed reply; `on_retry(True)` when the SDK retries its request (a 429, a
        5xx, a dropped connection) and `on_retry(False)` once an answer comes or it gives up;
        `on_tool_input` gets each fragment of a tool call's input as it streams."""
        if not self._has_key:
            metrics.ANTHROPIC_REQUESTS_TOTAL.labels(outcome="unauthorized").inc()
            raise ModelError("unauthorized")
        started = time.perf_counter()
        retrying = _Retrying(on_retry)
        token = _on_retry.set(retrying.began)
        try:
            reply = await self._stream(history, tools, on_text, started, retrying, on_tool_input)
        except (anthropic.APIError, httpx2.TransportError, ModelError) as exc:
            error = classify_model_exception(exc)
            metrics.ANTHROPIC_REQUESTS_TOTAL.labels(outcome=error.code).inc()
            raise error from exc
        finally:
            _on_retry.reset(token)
            retrying.ended()
            metrics.STREAM_DURATION.observe(time.perf_counter() - started)
        metrics.ANTHROPIC_REQUESTS_TOTAL.labels(outcome="ok").inc()
        return reply

    async def _stream(
        self,
        history: Sequence[JsonDict],
        tools: Sequence[JsonDict],
        on_text: TextSink,
        started: float,
        retrying: _Retrying,
        on_tool_input: ToolInputSink | None,
    ) -> Reply:
        settings = self._settings
        blocks = _Blocks()
        stop_reason: str | None = None
        completed = False
        first_token = True
        request = self._client.messages.with_streaming_response.create(
            model=settings.anthropic_model,
            max_tokens=settings.max_tokens,
            system=settings.system_prompt,
            messages=cast(list[MessageParam], list(history)),  # plain dicts of that shape
            tools=cast(list[ToolParam], self._tool_params(tools)) if tools else anthropic.omit,
            stream=True,
        )
        async with request as response:  # HTTP errors and retries: the SDK's, as ever
            retrying.ended()  # an answer came
            async for sse in anthropic.AsyncStream.raw_events(response.http_response):
                match sse.event:  # the event name is the data's "type"
                    case "content_block_delta":
                        event = _json(sse.data)
                        delta = event["delta"]
                        text = blocks.add(event["index"], delta)
                        if text:
                            if first_token:
                                first_token = False
                                metrics.TIME_TO_FIRST_TOKEN.observe(time.perf_counter() - started)
                            on_text(text)
                        elif on_tool_input and delta.get("type") == "input_json_delta":
                            block = blocks.block(event["index"])
                            if block.get("type") == "tool_use":
                                on_tool_input(block["id"], block["name"], delta["partial_json"])
                    case "content_block_start":
                        event = _json(sse.data)
                        blocks.start(event["index"], event["content_block"])
                    case "message_delta":
                        stop_reason = _json(sse.data)["delta"].get("stop_reason")
                    case "message_stop":
                        completed = True
                    case "error":  # as the SDK's own stream would raise it
                        raise ModelError("stream_error", status=200, request_id=response.request_id)
                    case _:  # message_start, content_block_stop, ping, events of a later API
                        pass
        if not completed:
            raise ModelError("stream_interrupted")
        return Reply(content=blocks.content(), stop_reason=stop_reason)

    def _tool_params(self, tools: Sequence[JsonDict]) -> list[JsonDict]:
        """The tools as sent; `eager_input_streaming` (fine-grained input streaming, asked for
        by the catalogue on the tools whose input the person watches) only when enabled."""
        if self._settings.eager_input_streaming:
            return list(tools)
        return [{k: v for k, v in tool.items() if k != "eager_input_streaming"} for tool in tools]


def http_client(timeout: httpx2.Timeout) -> httpx2.AsyncClient:
    """The SDK's own aiohttp client (`anthropic[aiohttp]`), with room for as many replies at
    once as the server holds. httpx still picks the proxy (HTTPS_PROXY, ALL_PROXY, NO_PROXY)
    and the trusted CAs (SSL_CERT_FILE) from the environment; aiohttp reads the bytes, for
    about 40% of the CPU per delta of the SDK's default httpx transport
    (`python -m bench.sdk_paths`, bench/results/FINDINGS.md)."""
    return anthropic.DefaultAioHttpClient(
        limits=CONNECTION_LIMITS, timeout=timeout, event_hooks={"request": [_notice_retry]}
    )


async def _notice_retry(request: httpx2.Request) -> None:
    """The SDK numbers each attempt of a request in this header; past 0 it is a retry."""
    if request.headers.get("x-stainless-retry-count", "0") != "0":
        callback = _on_retry.get()
        if callback is not None:
            callback()


class _Retrying:
    """Tells the sink once when a reply's request is retried, and once when that is over."""

    def __init__(self, sink: RetrySink | None) -> None:
        self._sink = sink
        self._told = False

    def began(self) -> None:
        if self._sink is not None and not self._told:
            self._told = True
            self._sink(True)

    def ended(self) -> None:
        if self._sink is not None and self._told:
            self._told = False
            self._sink(False)


class _Blocks:
    """The reply's content blocks, built from the stream's deltas in linear time.

    A block is kept as it started (any type, a future one too), and a delta is applied only
    to the block type that takes it, as the SDK's accumulator does; anything else is kept
    unchanged. Streamed strings are joined once, when the block is finished."""

    def __init__(self) -> None:
        self._blocks: dict[int, JsonDict] = {}
        self._pieces: dict[int, list[str]] = {}

    def start(self, index: int, block: JsonDict) -> None:
        self._blocks[index] = {key: value for key, value in block.items() if value is not None}
        self._pieces[index] = []

    def block(self, index: int) -> JsonDict:
        """The block as it started (its id and name, for a tool call)."""
        return self._blocks[index]

    def add(self, index: int, delta: JsonDict) -> str:
        """Record one delta; return its text if it is reply text for the person."""
        block, pieces = self._blocks[index], self._pieces[index]
        match delta.get("type"), block.get("type"):
            case "text_delta", "text":
                text = clean_text(delta["text"])  # a lone surrogate becomes U+FFFD
                pieces.append(text)
                return text
            case "input_json_delta", kind if kind in TOOL_INPUT_BLOCKS:
                pieces.append(delta["partial_json"])
            case "thinking_delta", "thinking":
                pieces.append(delta["thinking"])
            case "signature_delta", "thinking":
                block["signature"] = delta["signature"]
            case "citations_delta", "text":
                block.setdefault("citations", []).append(delta["citation"])
            case _:  # a delta this block does not take, or one of a later API
                pass
        return ""

    def content(self) -> list[JsonDict]:
        return [self._finish(index) for index in sorted(self._blocks)]

    def _finish(self, index: int) -> JsonDict:
        """The one place a block is completed from its streamed pieces."""
        block, joined = self._blocks[index], "".join(self._pieces[index])
        kind = block.get("type")
        if kind == "text":
            block["text"] = block.get("text", "") + joined
        elif kind == "thinking":
            block["thinking"] = block.get("thinking", "") + joined
        elif kind in TOOL_INPUT_BLOCKS and joined:
            block["input"] = _json_object(joined)
        return block


def _json(data: str) -> Any:
    """One event's data. orjson parses a delta in a sixth of json's time; it refuses a lone
    surrogate escape, which json reads (and `sanitise.clean_text` then replaces)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def _json_object(text: str) -> JsonDict:
    """A tool call's input; anything but a JSON object becomes {} and fails the schema check,
    which goes back to Claude as an error."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return cast(JsonDict, value) if isinstance(value, dict) else {}
