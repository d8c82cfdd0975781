"""The baseline: the least a relay can do, to measure Gatehouse against.

A bare `websockets` server; each text frame starts one streamed call of the bare `anthropic`
SDK, and every text delta goes out as an `ai_chunk` frame in Gatehouse's envelope. No
validation, no logging, no sessions, no history, no persistence. It runs on uvloop when
installed, as uvicorn does for the app, so the comparison is of the code, not the event loop.

`--sdk-path helper` (the default, the baseline of record) uses the SDK's `messages.stream`
helper over its default httpx transport, the plain way to stream with the SDK; `--sdk-path raw`
uses the SDK's cheapest stock path: raw typed events from `create(stream=True)` over its aiohttp
transport. (The app reads the stream more cheaply still: `gatehouse/model_transport.py`.)

    python -m bench.baseline --port 0 --model-url http://127.0.0.1:PORT [--compression]
        [--sdk-path helper|raw]    (prints "ready <port>")
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import anthropic
from websockets.asyncio.server import ServerConnection, serve

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


async def _raw_deltas(client: anthropic.AsyncAnthropic, text: str) -> AsyncIterator[str]:
    stream = await client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=4096,
        messages=[{"role": "user", "content": text}],
        stream=True,
    )
    async with stream:
        async for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                yield event.delta.text


async def _relay(port: int, model_url: str, compression: bool, sdk_path: str) -> None:
    raw = sdk_path == "raw"
    client = anthropic.AsyncAnthropic(
        api_key="sk-ant-bench",
        base_url=model_url,
        http_client=anthropic.DefaultAioHttpClient() if raw else None,
    )
    deltas = _raw_deltas if raw else _helper_deltas

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
    parser.add_argument("--sdk-path", choices=("helper", "raw"), default="helper")
    args = parser.parse_args()
    _run(_relay(args.port, args.model_url, args.compression, args.sdk_path))


if __name__ == "__main__":
    main()
