"""The baseline: the least a relay can do, to measure Gatehouse against.

A bare `websockets` server; each text frame starts one `messages.stream` call of the bare
`anthropic` SDK, and every text delta goes out as an `ai_chunk` frame in Gatehouse's envelope.
No validation, no logging, no sessions, no history, no persistence. It runs on uvloop when
installed, as uvicorn does for the app, so the comparison is of the code, not the event loop.

    python -m bench.baseline --port 0 --model-url http://127.0.0.1:PORT [--compression]
    (prints "ready <port>")
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Coroutine
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


async def _relay(port: int, model_url: str, compression: bool) -> None:
    client = anthropic.AsyncAnthropic(api_key="sk-ant-bench", base_url=model_url)

    async def handler(websocket: ServerConnection) -> None:
        await websocket.send(SESSION_CREATED)
        async for raw in websocket:
            text = json.loads(raw)["data"]["text"]
            async with client.messages.stream(
                model="claude-sonnet-4-6",
                max_tokens=4096,
                messages=[{"role": "user", "content": text}],
            ) as stream:
                async for delta in stream.text_stream:
                    chunk = json.dumps(
                        {"event": "ai_chunk", "data": {"text": delta}}, separators=SEP
                    )
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
    args = parser.parse_args()
    _run(_relay(args.port, args.model_url, args.compression))


if __name__ == "__main__":
    main()
