"""CPU per delta of the ways to read Claude's stream through the SDK, client side only.

The model server runs in its own process; this process streams `--replies` replies of
`--deltas` text deltas each, `--concurrency` at a time, once per path, and reports its own
CPU time per 1,000 deltas. Paths: the app's (`gatehouse.llm.http_client`, the SDK's aiohttp
client; `with_streaming_response`, the SDK's SSE decoder, orjson), the same over the SDK's
default httpx client, the SDK's typed raw events (`create(stream=True)`) and its
`messages.stream` helper, both over httpx.

    python -m bench.sdk_paths [--replies 200 --deltas 200 --concurrency 50 --rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anthropic
import httpx2
import orjson

from bench import procs
from gatehouse.llm import CONNECTION_LIMITS, http_client

TIMEOUT = httpx2.Timeout(60.0, connect=10.0)
Reader = Callable[[anthropic.AsyncAnthropic, str], AsyncIterator[str]]


def _request(text: str) -> dict[str, object]:
    return {
        "model": "m",
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": text}],
    }


async def _sse_events(sdk: anthropic.AsyncAnthropic, text: str) -> AsyncIterator[str]:
    request = sdk.messages.with_streaming_response.create(**_request(text), stream=True)  # type: ignore[call-overload]
    async with request as response:  # pyright: ignore[reportUnknownVariableType]
        async for sse in anthropic.AsyncStream.raw_events(response.http_response):  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
            if sse.event == "content_block_delta":
                delta = orjson.loads(sse.data)["delta"]
                if delta["type"] == "text_delta":
                    yield delta["text"]


async def _typed_events(sdk: anthropic.AsyncAnthropic, text: str) -> AsyncIterator[str]:
    stream = await sdk.messages.create(**_request(text), stream=True)  # type: ignore[call-overload]
    async with stream:  # pyright: ignore[reportUnknownVariableType]
        async for event in stream:  # pyright: ignore[reportUnknownVariableType]
            if event.type == "content_block_delta" and event.delta.type == "text_delta":  # pyright: ignore[reportUnknownMemberType]
                yield event.delta.text  # pyright: ignore[reportUnknownMemberType]


async def _helper(sdk: anthropic.AsyncAnthropic, text: str) -> AsyncIterator[str]:
    async with sdk.messages.stream(**_request(text)) as stream:  # type: ignore[arg-type]
        async for delta in stream.text_stream:  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            yield delta  # pyright: ignore[reportUnknownArgumentType]


def _httpx() -> httpx2.AsyncClient:
    return anthropic.DefaultAsyncHttpxClient(limits=CONNECTION_LIMITS, timeout=TIMEOUT)


PATHS: dict[str, tuple[Callable[[], httpx2.AsyncClient], Reader]] = {
    "app: aiohttp, SSE decoder, orjson": (lambda: http_client(TIMEOUT), _sse_events),
    "httpx, SSE decoder, orjson": (_httpx, _sse_events),
    "httpx, typed raw events": (_httpx, _typed_events),
    "httpx, messages.stream helper": (_httpx, _helper),
}


async def _cpu_per_1000(
    url: str, make: Callable[[], httpx2.AsyncClient], read: Reader, replies: int, width: int
) -> float:
    sdk = anthropic.AsyncAnthropic(api_key="k", base_url=url, http_client=make())
    gate = asyncio.Semaphore(width)
    deltas = 0

    async def one() -> None:
        nonlocal deltas
        async with gate:
            async for _ in read(sdk, "bench"):
                deltas += 1

    await asyncio.gather(*(one() for _ in range(width)))  # warm: connections, imports
    deltas = 0
    started = time.process_time()
    await asyncio.gather(*(one() for _ in range(replies)))
    spent = time.process_time() - started
    await sdk.close()
    return spent / deltas * 1000


async def _main(replies: int, count: int, width: int, rounds: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="gatehouse-sdk-paths-"))
    model = procs.start_model_server(workdir)
    try:
        reply = {"deltas": {"count": count, "min_bytes": 20, "max_bytes": 60}}
        procs.script_model(model, reply, "bench")
        url = f"http://127.0.0.1:{model.port}"
        samples: dict[str, list[float]] = {name: [] for name in PATHS}
        for _ in range(rounds):  # interleaved, so a neighbour's load falls on every path
            for name, (make, read) in PATHS.items():
                samples[name].append(await _cpu_per_1000(url, make, read, replies, width))
    finally:
        model.stop()
    print("| path | CPU s per 1,000 deltas (median) | all rounds |")  # noqa: T201
    print("|---|---:|---|")  # noqa: T201
    for name, values in samples.items():
        rounds_text = ", ".join(f"{v:.3f}" for v in values)
        print(f"| {name} | {statistics.median(values):.3f} | {rounds_text} |")  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--deltas", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    run = asyncio.run
    try:  # the app runs on uvloop under uvicorn; so does this, when installed
        import uvloop
    except ImportError:
        pass
    else:
        run = uvloop.run
    run(_main(args.replies, args.deltas, args.concurrency, args.rounds))


if __name__ == "__main__":
    main()
