"""The baseline: the least a relay can do, to measure Gatehouse against.

A bare `websockets` server; each text frame starts one streamed call of the bare `anthropic`
SDK, and every text delta goes out as an `ai_chunk` frame in Gatehouse's envelope. No
validation, no logging, no sessions, no history, no persistence. It runs on uvloop when
installed, as uvicorn does for the app, so the comparison is of the code, not the event loop.

`--sdk-path helper` (the default, the baseline of record) uses the SDK's `messages.stream`
helper over its default httpx transport, the plain way to stream with the SDK; `--sdk-path
same` reads the stream exactly as the app does: the app's own client (`gatehouse.llm
.http_client`), `with_streaming_response`, the SDK's SSE decoder and orjson, so the two
differ only in what the app does around the stream.

    python -m bench.baseline --port 0 --model-url http://127.0.0.1:PORT [--compression]
        [--sdk-path helper|same]    (prints "ready <port>")
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import anthropic
import httpx2
import orjson
from websockets.asyncio.server import ServerConnection, serve

from gatehouse.llm import http_client

SESSION_CREATED = '{"event":"session_created","data":{"session_id":"baseline"},"seq":1}'
COMPLETED = '{"event":"assistant_message_completed","data":{"reason":"ok"}}'
SEP = (",", ":")


def _run(main: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


async def _helper_deltas(client: anthropic.AsyncAnthropic, text: str) -> AsyncIterator[str]:
    async with client.messages.stream(
        model="claude-sonnet-4-6", max_tokens=4096, messages=[{"role": "user", "content": text}]
    ) as stream:
        async for delta in stream.text_stream:
            yield delta


async def _same_path_deltas(client: anthropic.AsyncAnthropic, text: str) -> AsyncIterator[str]:
    request = client.messages.with_streaming_response.create(
        model="claude-sonnet-4-6",
        max_tokens=4096,
        messages=[{"role": "user", "content": text}],
        stream=True,
    )
    async with request as response:
        async for sse in anthropic.AsyncStream.raw_events(response.http_response):
            if sse.event == "content_block_delta":
                delta = orjson.loads(sse.data)["delta"]
                if delta["type"] == "text_delta":
                    yield delta["text"]


async def _relay(port: int, model_url: str, compression: bool, sdk_path: str) -> None:
    same = sdk_path == "same"
    client = anthropic.AsyncAnthropic(
        api_key="sk-ant-bench",
        base_url=model_url,
        http_client=http_client(httpx2.Timeout(120.0, connect=10.0)) if same else None,
    )
    deltas = _same_path_deltas if same else _helper_deltas

    async def handler(websocket: ServerConnection) -> None:
        await websocket.send(SESSION_CREATED)
        async for message in websocket:
            async for delta in deltas(client, json.loads(message)["data"]["text"]):
                chunk = json.dumps({"event": "ai_chunk", "data": {"text": delta}}, separators=SEP)
                await websocket.send(chunk)
            await websocket.send(COMPLETED)

    async with serve(
        handler,
        "127.0.0.1",
        port,
        max_size=1 << 20,
        backlog=2048,
        compression="deflate" if compression else None,
    ) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        print(f"ready {bound}", flush=True)  # noqa: T201
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--model-url", required=True)
    parser.add_argument("--compression", action="store_true", help="accept permessage-deflate")
    parser.add_argument("--sdk-path", choices=("helper", "same"), default="helper")
    args = parser.parse_args()
    _run(_relay(args.port, args.model_url, args.compression, args.sdk_path))


if __name__ == "__main__":
    main()
