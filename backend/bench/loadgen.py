"""The load generator: many chat sockets in one process, as cheap per frame as it can be.

Frames are not parsed as JSON on the hot path: an `ai_chunk` is recognised by its prefix and
its stamp (`@<model send time_ns>@`, and on the first delta of a reply `@<request received>@`
after it, see `tests/model_server.py`) is found with a string search.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from array import array
from dataclasses import dataclass, field
from typing import Any, Literal

from websockets.asyncio.client import ClientConnection, connect

STREAM_TEXT = "bench-stream"
FILE_TEXT = "bench-file"
WARM_TEXT = "bench-warm"
AI_CHUNK = '{"event":"ai_chunk"'
TOOL_CHUNK = '{"event":"tool_chunk"'
ERROR = '{"event":"error"'
COMPLETED = "assistant_message_completed"
OPENING = 64  # handshakes in flight at once
Compression = Literal["deflate"] | None


@dataclass(frozen=True)
class FirstChunk:
    """One reply's first chunk: when the client asked, the model got it, sent and it arrived."""

    user_sent_ns: int
    request_received_ns: int
    first_sent_ns: int
    first_received_ns: int


@dataclass
class StreamResult:
    conversations: int
    replies: int
    received_ns: array[int] = field(default_factory=lambda: array("q"))  # per chunk
    latency_ns: array[int] = field(default_factory=lambda: array("q"))  # receive − model send
    firsts: list[FirstChunk] = field(default_factory=lambda: list[FirstChunk]())
    spans: list[tuple[int, int]] = field(default_factory=lambda: list[tuple[int, int]]())
    errors: list[str] = field(default_factory=lambda: list[str]())
    wall_s: float = 0.0

    @property
    def chunks(self) -> int:
        return len(self.latency_ns)


@dataclass(frozen=True)
class FileResult:
    bytes: int
    chunks: int
    request_s: float  # user_message sent → tool_request received
    approval_to_last_chunk_s: float
    approval_to_completed_s: float


def _frame_text(frame: str | bytes) -> str:
    return frame if isinstance(frame, str) else frame.decode()


async def _open_one(url: str, compression: Compression) -> ClientConnection:
    ws = await connect(
        url, max_size=None, ping_interval=None, open_timeout=60, compression=compression
    )
    first = _frame_text(await ws.recv())
    if "session_created" not in first:
        await ws.close()
        raise RuntimeError(f"first frame was not session_created: {first[:200]}")
    return ws


class Crowd:
    """`n` open chat sockets, each past its `session_created`."""

    def __init__(self, url: str, compression: Compression, text: str = STREAM_TEXT) -> None:
        self.url = url
        self.compression: Compression = compression
        self.message = json.dumps({"event": "user_message", "data": {"text": text}})
        self.sockets: list[ClientConnection] = []
        self.errors: list[str] = []

    async def open(self, n: int, timeout_s: float = 180.0) -> None:
        gate = asyncio.Semaphore(OPENING)

        async def one() -> None:
            async with gate:
                try:
                    self.sockets.append(await _open_one(self.url, self.compression))
                except Exception as exc:  # refused, reset, timed out, a bad handshake: counted
                    self.errors.append(f"connect: {exc!r}"[:200])

        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.gather(*(one() for _ in range(n)))
        except TimeoutError:
            self.errors.append(f"connect: {n - len(self.sockets)} not open after {timeout_s} s")

    async def close(self) -> None:
        sockets, self.sockets = self.sockets, []
        gate = asyncio.Semaphore(256)

        async def one(ws: ClientConnection) -> None:
            async with gate:
                try:
                    async with asyncio.timeout(10):
                        await ws.close()
                except Exception:  # a socket the server already dropped: nothing to close
                    ws.transport.abort()

        await asyncio.gather(*(one(ws) for ws in sockets))

    async def stream(self, replies: int, stagger_s: float, timeout_s: float) -> StreamResult:
        """Every socket asks for `replies` replies back to back, the first at a random time
        (seeded) within `stagger_s`, so replies start at random phases of the model's gap."""
        result = StreamResult(len(self.sockets), replies)
        begin = asyncio.get_running_loop().time() + 0.1
        offsets = random.Random(len(self.sockets)).uniform
        started = time.perf_counter()
        tasks = [
            asyncio.create_task(self._converse(ws, begin + offsets(0, stagger_s), replies, result))
            for ws in self.sockets
        ]
        _done, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        result.wall_s = time.perf_counter() - started
        if pending:
            result.errors.append(f"timeout: {len(pending)} conversations unfinished")
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                result.errors.append(f"conversation: {task.exception()!r}"[:200])
        return result

    async def _converse(
        self, ws: ClientConnection, at: float, replies: int, out: StreamResult
    ) -> None:
        await asyncio.sleep(at - asyncio.get_running_loop().time())
        span = [0, 0]  # first and last chunk received; kept if the level is cut short
        try:
            for _ in range(replies):
                await _reply(ws, self.message, out, span)
        finally:
            out.spans.append((span[0], span[1]))


async def _reply(ws: ClientConnection, message: str, out: StreamResult, span: list[int]) -> None:
    """One reply: the latency of every chunk, and when its first chunk came."""
    received, latency = out.received_ns, out.latency_ns
    user_sent = time.time_ns()
    await ws.send(message)
    first = True
    while True:
        frame = _frame_text(await ws.recv())
        now = time.time_ns()
        if frame.startswith(AI_CHUNK):
            mark = frame.find("@", len(AI_CHUNK))
            end = frame.find("@", mark + 1)
            sent = int(frame[mark + 1 : end])
            received.append(now)
            latency.append(now - sent)
            span[1] = now
            if first:  # the first delta also carries when the model got the request
                first = False
                asked = int(frame[end + 1 : frame.find("@", end + 1)])
                out.firsts.append(FirstChunk(user_sent, asked, sent, now))
                span[0] = span[0] or now
        elif COMPLETED in frame[:48]:
            if '"reason":"ok"' not in frame:
                out.errors.append(frame[:200])
            return
        elif frame.startswith(ERROR):
            out.errors.append(frame[:200])


async def file_transfer(
    url: str, size: int, compression: Compression, timeout_s: float = 120.0
) -> FileResult:
    """Ask for the scripted 1 MB create_file, approve it, time its `tool_chunk` frames."""
    async with asyncio.timeout(timeout_s):
        ws = await _open_one(url, compression)
        try:
            return await _approve_and_receive(ws, size)
        finally:
            await ws.close()


async def _approve_and_receive(ws: ClientConnection, size: int) -> FileResult:
    asked = time.perf_counter()
    await ws.send(json.dumps({"event": "user_message", "data": {"text": FILE_TEXT}}))
    request: dict[str, Any] = {}
    while not request:
        frame: dict[str, Any] = json.loads(await ws.recv())
        if frame["event"] in ("error", COMPLETED):
            raise RuntimeError(f"no tool_request: {str(frame)[:200]}")
        if frame["event"] == "tool_request":
            request = frame["data"]
    requested = time.perf_counter()
    approval = {"tool_use_id": request["id"], "approved": True}
    approved = time.perf_counter()
    await ws.send(json.dumps({"event": "tool_approval", "data": approval}))
    written = chunks = 0
    last = 0.0
    while True:
        text = _frame_text(await ws.recv())
        if text.startswith(TOOL_CHUNK):
            written += len(json.loads(text)["data"]["chunk"].encode())
            chunks += 1
            last = time.perf_counter()
        elif text.startswith(ERROR):
            raise RuntimeError(f"tool failed: {text[:200]}")
        elif COMPLETED in text[:48]:
            break
    completed = time.perf_counter()
    if written != size:
        raise RuntimeError(f"tool_chunk frames carried {written} bytes, not {size}")
    return FileResult(
        bytes=written,
        chunks=chunks,
        request_s=requested - asked,
        approval_to_last_chunk_s=last - approved,
        approval_to_completed_s=completed - approved,
    )
