"""The Claude bridge: one streamed reply from the Messages API through the official SDK.

Text deltas are handed to a callback as they arrive (no batching, so the first token is not
delayed); the SDK accumulates the final message. Every failure leaves as a `ModelError`,
including a stream that ends without `message_stop`, which is an error, not a short reply.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anthropic
import httpx2

from gatehouse import metrics
from gatehouse.errors import ModelError, classify_model_exception
from gatehouse.settings import Settings

JsonDict = dict[str, Any]
TextSink = Callable[[str], Awaitable[None]]

# The SDK's defaults (1,000 connections, 100 kept alive) would cap one process at 1,000 replies
# at once and, past 100, open a new TLS connection for every reply.
CONNECTION_LIMITS = httpx2.Limits(max_connections=10_000, max_keepalive_connections=1_000)


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
            http_client=anthropic.DefaultAsyncHttpxClient(
                limits=CONNECTION_LIMITS, timeout=timeout
            ),
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
        completed = False
        first_token = True
        async with self._client.messages.stream(
            model=settings.anthropic_model,
            max_tokens=settings.max_tokens,
            system=settings.system_prompt,
            messages=list(history),  # type: ignore[arg-type]  # plain dicts of MessageParam shape
            tools=list(tools) if tools else anthropic.omit,  # type: ignore[arg-type]
        ) as stream:
            async for event in stream:
                if event.type == "text":
                    if first_token:
                        first_token = False
                        metrics.TIME_TO_FIRST_TOKEN.observe(time.perf_counter() - started)
                    await on_text(event.text)
                elif event.type == "message_stop":
                    completed = True
            message = await stream.get_final_message()
        if not completed:
            raise ModelError("stream_interrupted")
        content = [block.model_dump(mode="json", exclude_none=True) for block in message.content]
        return Reply(content=content, stop_reason=message.stop_reason)
