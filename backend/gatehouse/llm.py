"""The Claude bridge: one streamed reply from the Messages API through the official SDK.

Text deltas are handed to a callback as they arrive (no batching, so the first token is not
delayed). Every failure leaves as a `ModelError`, including a stream that ends without
`message_stop`, which is an error, not a short reply.

The SDK sends the request (headers, retries, HTTP errors) over `model_transport.ModelTransport`;
the body is read from the SDK's raw response, parsed by `sse.EventStreamParser`, and each event
taken as plain JSON. The `messages.stream` helper over httpx cost about 5× the CPU per delta:
it builds typed event models, re-builds a snapshot of the whole message on every delta
(quadratic in the reply's length), and httpx reads slower (bench/results/FINDINGS.md).
`_Blocks` keeps the content blocks instead, in linear time.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import anthropic
import httpx2
import orjson
from anthropic.types import MessageParam, ToolParam

from gatehouse import metrics
from gatehouse.errors import ModelError, classify_model_exception
from gatehouse.model_transport import ModelTransport, proxy_in_environment
from gatehouse.settings import Settings
from gatehouse.sse import EventStreamParser

JsonDict = dict[str, Any]
TextSink = Callable[[str], None]  # called once per text delta; it must not block

# For the SDK's aiohttp client (used when a proxy is set): its default of 1,000 connections
# would cap one process at 1,000 replies at once. ModelTransport has no such cap.
CONNECTION_LIMITS = httpx2.Limits(max_connections=10_000)
DEFAULT_BASE_URL = "https://api.anthropic.com"


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
            http_client=_http_client(settings.anthropic_base_url, timeout),
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def stream_reply(
        self, history: Sequence[JsonDict], tools: Sequence[JsonDict], on_text: TextSink
    ) -> Reply:
        if not self._has_key:
            metrics.ANTHROPIC_REQUESTS_TOTAL.labels(outcome="unauthorized").inc()
            raise ModelError("unauthorized")
        started = time.perf_counter()
        try:
            reply = await self._stream(history, tools, on_text, started)
        except (anthropic.APIError, httpx2.TransportError, ModelError) as exc:
            error = classify_model_exception(exc)
            metrics.ANTHROPIC_REQUESTS_TOTAL.labels(outcome=error.code).inc()
            raise error from exc
        finally:
            metrics.STREAM_DURATION.observe(time.perf_counter() - started)
        metrics.ANTHROPIC_REQUESTS_TOTAL.labels(outcome="ok").inc()
        return reply

    async def _stream(
        self,
        history: Sequence[JsonDict],
        tools: Sequence[JsonDict],
        on_text: TextSink,
        started: float,
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
            tools=cast(list[ToolParam], list(tools)) if tools else anthropic.omit,
            stream=True,
        )
        async with request as response:  # HTTP errors and retries: the SDK's, as ever
            parser = EventStreamParser()
            async for received in _body(response.http_response):
                for kind, data in parser.feed(received):  # the event name is the data's "type"
                    if kind == b"content_block_delta":
                        event = _json(data)
                        text = blocks.add(event["index"], event["delta"])
                        if text:
                            if first_token:
                                first_token = False
                                metrics.TIME_TO_FIRST_TOKEN.observe(time.perf_counter() - started)
                            on_text(text)
                    elif kind == b"content_block_start":
                        event = _json(data)
                        blocks.start(event["index"], event["content_block"])
                    elif kind == b"message_delta":
                        stop_reason = _json(data)["delta"].get("stop_reason")
                    elif kind == b"message_stop":
                        completed = True
                    elif kind == b"error":  # as the SDK's own stream would raise it
                        raise ModelError("stream_error", status=200, request_id=response.request_id)
        if not completed:
            raise ModelError("stream_interrupted")
        return Reply(content=blocks.content(), stop_reason=stop_reason)


def _http_client(base_url: str | None, timeout: httpx2.Timeout) -> httpx2.AsyncClient:
    """The SDK's client over `ModelTransport`; over the SDK's aiohttp one when a proxy from
    the environment must carry the requests."""
    if proxy_in_environment(base_url or DEFAULT_BASE_URL):
        return anthropic.DefaultAioHttpClient(limits=CONNECTION_LIMITS, timeout=timeout)
    return anthropic.DefaultAsyncHttpxClient(transport=ModelTransport(), timeout=timeout)


class _Blocks:
    """The reply's content blocks, built from the stream's deltas in linear time."""

    def __init__(self) -> None:
        self._blocks: dict[int, JsonDict] = {}
        self._pieces: dict[int, list[str]] = {}

    def start(self, index: int, block: JsonDict) -> None:
        self._blocks[index] = {key: value for key, value in block.items() if value is not None}
        self._pieces[index] = []

    def add(self, index: int, delta: JsonDict) -> str:
        """Record one delta; return its text if it is reply text for the person."""
        block, pieces = self._blocks[index], self._pieces[index]
        kind = delta.get("type")
        if kind == "text_delta":
            text = _encodable(delta["text"])
            pieces.append(text)
            return text
        if kind == "input_json_delta":
            pieces.append(delta["partial_json"])
        elif kind == "thinking_delta":
            pieces.append(delta["thinking"])
        elif kind == "signature_delta":
            block["signature"] = delta["signature"]
        elif kind == "citations_delta":
            block.setdefault("citations", []).append(delta["citation"])
        return ""

    def content(self) -> list[JsonDict]:
        return [self._finish(index) for index in sorted(self._blocks)]

    def _finish(self, index: int) -> JsonDict:
        block, joined = self._blocks[index], "".join(self._pieces[index])
        if block["type"] == "text":
            block["text"] = block.get("text", "") + joined
        elif block["type"] == "thinking":
            block["thinking"] = block.get("thinking", "") + joined
        elif block["type"] == "tool_use" and joined:
            block["input"] = _json_object(joined)
        return block


def _body(response: httpx2.Response) -> AsyncIterator[bytes]:
    """The body as it arrives; decoded only when the server compressed it."""
    if response.headers.get("content-encoding", "identity") == "identity":
        return response.aiter_raw()
    return response.aiter_bytes()


def _json(data: bytes) -> Any:
    """One event's data. orjson parses a delta in a sixth of json's time; it refuses a lone
    surrogate escape, which json reads (and `_encodable` then replaces)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def _encodable(text: str) -> str:
    """Text the person can be sent: a lone surrogate (JSON can carry one as a `\\ud800`
    escape, and UTF-8 cannot) becomes U+FFFD instead of failing the reply."""
    if text.isascii():
        return text
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _json_object(text: str) -> JsonDict:
    """A tool call's input; anything but a JSON object becomes {} and fails the schema check,
    which goes back to Claude as an error."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return cast(JsonDict, value) if isinstance(value, dict) else {}
