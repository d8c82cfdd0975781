"""A local stand-in for the Messages API that speaks its public wire format over real HTTP.

Tests script what "Claude" answers; the app reaches this server through the real `anthropic`
SDK (ANTHROPIC_BASE_URL). It writes SSE streams (`event:` + `data:` lines, `usage` in
`message_start` and `message_delta`, a `request-id` header), JSON error bodies, and the failure
modes a real connection has: a mid-stream `error` event, a dropped connection, a stall, a clean
end without `message_stop`.

Scripting, in Python (`ModelServer.script`) or over HTTP for other test runners:
    POST /_control/script  {"match": <substring of the last user turn>?, "reply": {}, "times": n?}
    POST /_control/reset    GET /_control/requests    POST /_control/release {"gate": name}
Reply keys: text (list of deltas), tool_uses ([{id, name, input, fragments?, input_json?}]: the
input JSON streams in `fragments` pieces, 2 by default; `input_json` sends that text instead,
valid or not; `hold_after` + `gate` stop after that many pieces), stop_reason (any value:
max_tokens, refusal, pause_turn), delay_ms,
http_error ({status, type, message, headers?}), error_event_after (n deltas), cut_after,
stall_after, hold_after + gate, no_message_stop, close_after (close the connection once the
reply is sent, with no `connection: close` header); for load tests, deltas ({count, min_bytes,
max_bytes}: generated text instead of `text`), sse (a recorded event stream, sent as it is,
one event per chunk) and stamp (true: each text delta starts with
`@<time.time_ns() when sent>@`, the first with `@<sent>@<request received>@`).
Unscripted requests get an echo of the last user turn.

Every request body is checked against the rules the real API enforces on a conversation
(`request_problems`: the person first, alternating roles, each `tool_use` answered once at the
start of the next message, unique ids, valid Unicode). A request that breaks one is answered
400 `invalid_request_error`, as the API would, and recorded in `violations`; the `model`
fixture fails any test that leaves one.

Run alone: python -m tests.model_server --port 0   (prints "ready <port>")
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any, cast

JsonDict = dict[str, Any]


@dataclass
class Recorded:
    headers: dict[str, str]
    body: JsonDict
    client_port: int = 0  # the same port on two requests: one kept-alive connection


@dataclass
class _Script:
    reply: JsonDict
    match: str | None
    times: int


@dataclass
class ModelServer:
    host: str = "127.0.0.1"
    port: int = 0
    tls: ssl.SSLContext | None = None  # HTTPS with this server-side context
    requests: list[Recorded] = field(default_factory=lambda: list[Recorded]())
    violations: list[str] = field(default_factory=lambda: list[str]())
    _scripts: list[_Script] = field(default_factory=lambda: list[_Script]())
    _gates: dict[str, asyncio.Event] = field(default_factory=lambda: dict[str, asyncio.Event]())
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncio.Server | None = None

    # ── scripting (thread-safe) ─────────────────────────────────────────────────────────────
    def script(self, reply: JsonDict, *, match: str | None = None, times: int = 1) -> None:
        with self._lock:
            self._scripts.append(_Script(reply, match, times))

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self.requests.clear()
            self.violations.clear()

    def release(self, gate: str) -> None:
        loop = self._loop
        assert loop is not None
        loop.call_soon_threadsafe(self._gate(gate).set)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def _take(self, body: JsonDict) -> JsonDict | None:
        last = _last_user_text(body)
        with self._lock:
            for script in self._scripts:
                if script.match is None or script.match in last:
                    script.times -= 1
                    if script.times <= 0:
                        self._scripts.remove(script)
                    return script.reply
        return None

    def _gate(self, name: str) -> asyncio.Event:
        return self._gates.setdefault(name, asyncio.Event())

    # ── lifecycle ───────────────────────────────────────────────────────────────────────────
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, ssl=self.tls
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def start_in_thread(self) -> None:
        started = threading.Event()

        def run() -> None:
            async def main() -> None:
                await self.start()
                started.set()
                assert self._server is not None
                await self._server.serve_forever()

            asyncio.run(main())

        threading.Thread(target=run, name="model-server", daemon=True).start()
        if not started.wait(10):
            raise RuntimeError("model server did not start")

    # ── HTTP ────────────────────────────────────────────────────────────────────────────────
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                keep_open = await self._route(writer, *request)
                if not keep_open or request[2].get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _route(
        self,
        writer: asyncio.StreamWriter,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
    ) -> bool:
        path = path.split("?", 1)[0]
        if method == "POST" and path.endswith("/v1/messages"):
            return await self._messages(writer, headers, json.loads(body or b"{}"))
        if path.startswith("/_control/"):
            await _send_json(writer, 200, self._control(method, path, body))
            return True
        await _send_json(writer, 404, _error_body("not_found_error", f"no route {path}"))
        return True

    def _control(self, method: str, path: str, body: bytes) -> Any:
        payload: JsonDict = json.loads(body) if body else {}
        if method == "POST" and path == "/_control/script":
            self.script(payload["reply"], match=payload.get("match"), times=payload.get("times", 1))
        elif method == "POST" and path == "/_control/reset":
            self.reset()
        elif method == "POST" and path == "/_control/release":
            self._gate(payload["gate"]).set()
        elif path == "/_control/requests":
            return [r.body for r in self.requests]
        return {"ok": True}

    async def _messages(
        self, writer: asyncio.StreamWriter, headers: dict[str, str], body: JsonDict
    ) -> bool:
        received_ns = time.time_ns()
        request_id = f"req_test_{next(self._ids):04d}"
        with self._lock:
            self.requests.append(Recorded(headers, body, writer.get_extra_info("peername")[1]))
        if not (headers.get("authorization") or headers.get("x-api-key")):
            error = _error_body("authentication_error", "x-api-key header is required")
            await _send_json(writer, 401, error, request_id)
            return True
        if problems := request_problems(body):
            with self._lock:
                self.violations.extend(f"{request_id}: {problem}" for problem in problems)
            error = _error_body("invalid_request_error", problems[0], request_id)
            await _send_json(writer, 400, error, request_id)
            return True
        reply = self._take(body) or _default_reply(body)
        if "http_error" in reply:
            spec: JsonDict = reply["http_error"]
            error = _error_body(spec["type"], spec["message"], request_id)
            extra = {"retry-after-ms": "1", **spec.get("headers", {})}
            await _send_json(writer, spec["status"], error, request_id, extra)
            return True
        if "sse" in reply:
            return await _send_recorded(writer, reply["sse"], request_id)
        return await self._stream(writer, body, reply, request_id, received_ns)

    async def _stream(
        self,
        writer: asyncio.StreamWriter,
        body: JsonDict,
        reply: JsonDict,
        request_id: str,
        received_ns: int,
    ) -> bool:
        _write_stream_head(writer, request_id)
        delay = reply.get("delay_ms", 0) / 1000
        stamp = f"@{received_ns}@" if reply.get("stamp") else ""
        for n, event in enumerate(_events(body, reply)):
            if event is _CUT:
                writer.transport.abort()  # no terminating chunk: the peer sees a broken body
                return False
            if event is _STALL:
                await asyncio.sleep(3600)
            if isinstance(event, _Hold):
                await self._gate(event.gate).wait()
                continue
            assert isinstance(event, dict)
            if delay and n and event["type"] == "content_block_delta":
                await asyncio.sleep(delay)
            if stamp:
                stamp = _stamp(cast(JsonDict, event), stamp)
            frame = f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"
            data = frame.encode()
            writer.write(b"%x\r\n%s\r\n" % (len(data), data))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return not reply.get("close_after")  # then the client learns it only from the EOF


async def _send_recorded(writer: asyncio.StreamWriter, recorded: str, request_id: str) -> bool:
    """A recorded event stream, byte for byte, one event per chunk."""
    _write_stream_head(writer, request_id)
    for event in recorded.strip().split("\n\n"):
        data = (event + "\n\n").encode()
        writer.write(b"%x\r\n%s\r\n" % (len(data), data))
        await writer.drain()
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    return True


def _write_stream_head(writer: asyncio.StreamWriter, request_id: str) -> None:
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
        b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n"
        + f"request-id: {request_id}\r\n\r\n".encode()
    )


# ── what the real API refuses ────────────────────────────────────────────────────────────────

_TOOL_USE_ID = re.compile(r"[a-zA-Z0-9_-]+")


def request_problems(body: JsonDict) -> list[str]:
    """Why the Messages API would refuse this request's conversation (empty: it would not)."""
    problems = [f"{where}: not valid Unicode (a lone surrogate)" for where in _unencodable(body)]
    messages: list[JsonDict] = body.get("messages") or []
    if not messages or messages[0].get("role") != "user":
        problems.append("messages: the first message must use the `user` role")
    seen_ids: set[str] = set()
    asked: list[str] = []  # the tool_use ids of the message before
    for index, message in enumerate(messages):
        role, blocks = message.get("role"), _content_blocks(message.get("content"))
        where = f"messages.{index}"
        if index and role == messages[index - 1].get("role"):
            problems.append(f"{where}: roles must alternate between `user` and `assistant`")
        if not blocks:
            problems.append(f"{where}: all messages must have non-empty content")
        problems += [
            f"{where}.content.{n}: text content blocks must be non-empty"
            for n, block in enumerate(blocks)
            if block.get("type") == "text" and not block.get("text")
        ]
        if role == "user":
            problems += _answer_problems(where, asked, blocks)
            asked = []
        else:
            if asked:
                problems.append(_unanswered(index - 1, asked))
            asked = [b.get("id", "") for b in blocks if b.get("type") == "tool_use"]
            problems += _tool_use_problems(where, blocks, seen_ids)
    if asked:
        problems.append(_unanswered(len(messages) - 1, asked))
    return problems + _prefill_problems(messages)


def _prefill_problems(messages: list[JsonDict]) -> list[str]:
    """A final assistant message is one Claude continues (prefill, or a paused turn)."""
    if not messages or messages[-1].get("role") != "assistant":
        return []
    blocks = _content_blocks(messages[-1].get("content"))
    if (
        blocks
        and blocks[-1].get("type") == "text"
        and blocks[-1].get("text", "").rstrip() != blocks[-1].get("text")
    ):
        return ["final assistant content cannot end with trailing whitespace"]
    return []


def _tool_use_problems(where: str, blocks: list[JsonDict], seen_ids: set[str]) -> list[str]:
    problems: list[str] = []
    for n, block in enumerate(blocks):
        if block.get("type") != "tool_use":
            continue
        tool_use_id = block.get("id")
        if not isinstance(tool_use_id, str) or not _TOOL_USE_ID.fullmatch(tool_use_id):
            problems.append(f"{where}.content.{n}.id: String should match '^[a-zA-Z0-9_-]+$'")
        elif tool_use_id in seen_ids:
            problems.append(f"{where}.content.{n}: `tool_use` ids must be unique: {tool_use_id}")
        else:
            seen_ids.add(tool_use_id)
        if not isinstance(block.get("input"), dict):
            problems.append(f"{where}.content.{n}.input: Input should be a valid dictionary")
    return problems


def _answer_problems(where: str, asked: list[str], blocks: list[JsonDict]) -> list[str]:
    kinds = [block.get("type") for block in blocks]
    answered = [b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"]
    problems: list[str] = []
    if "tool_result" in kinds[len(answered) :]:
        problems.append(f"{where}: `tool_result` blocks must come first in the message")
    for tool_use_id in answered:
        if tool_use_id not in asked or answered.count(tool_use_id) > 1:
            problems.append(
                f"{where}: unexpected `tool_use_id` found in `tool_result` blocks: {tool_use_id}. "
                "Each `tool_result` block must have a corresponding `tool_use` block in the "
                "previous message."
            )
    missing = [tool_use_id for tool_use_id in asked if tool_use_id not in answered]
    if missing:
        problems.append(_unanswered(where, missing))
    return problems


def _unanswered(where: int | str, ids: list[str]) -> str:
    place = f"messages.{where}" if isinstance(where, int) else where
    return (
        f"{place}: `tool_use` ids were found without `tool_result` blocks immediately after: "
        f"{', '.join(ids)}. Each `tool_use` block must have a corresponding `tool_result` block "
        "in the next message."
    )


def _content_blocks(content: Any) -> list[JsonDict]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    items: list[Any] = content if isinstance(content, list) else []  # pyright: ignore[reportUnknownVariableType]
    return [cast(JsonDict, block) for block in items if isinstance(block, dict)]


def _unencodable(value: Any, where: str = "body") -> list[str]:
    """Where a string (or an object key) cannot be encoded as UTF-8."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        place, item = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                found.append(place)
        elif isinstance(item, dict):
            for key, child in cast(JsonDict, item).items():
                if not _encodable(key):
                    found.append(f"{place} (a key)")
                stack.append((f"{place}.{key}", child))
        elif isinstance(item, list):
            stack.extend((f"{place}.{n}", child) for n, child in enumerate(cast(list[Any], item)))
    return found


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


# ── the SSE script ───────────────────────────────────────────────────────────────────────────

_CUT = object()
_STALL = object()


@dataclass(frozen=True)
class _Hold:
    gate: str


def _stamp(event: JsonDict, after: str) -> str:
    """Start a text delta with its send time (and `after`, once); returns the next `after`."""
    delta: JsonDict = event.get("delta") or {}
    if delta.get("type") != "text_delta":
        return after
    mark = f"@{time.time_ns()}{after}"
    delta["text"] = mark + delta["text"][len(mark) :]
    return "@"


def _generated(spec: JsonDict) -> list[str]:
    """`count` deltas of `min_bytes`..`max_bytes` ASCII characters, the same on every call."""
    low, high = spec.get("min_bytes", 20), spec.get("max_bytes", 60)
    words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    filler = words * (high // len(words) + 2)
    return [filler[n % 7 : n % 7 + low + (n * 37) % (high - low + 1)] for n in range(spec["count"])]


def _events(body: JsonDict, reply: JsonDict) -> list[Any]:
    texts: list[str] = reply.get("text") or _generated(reply.get("deltas") or {"count": 0})
    tool_uses: list[JsonDict] = reply.get("tool_uses", [])
    events: list[Any] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_test",
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": body.get("model", "test"),
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 1},
            },
        }
    ]
    index = 0
    if texts:
        events.append(_block_start(0, {"type": "text", "text": ""}))
        events.append({"type": "ping"})
        for n, text in enumerate(texts):
            events.extend(_interruption(reply, n))
            events.append(_delta(0, {"type": "text_delta", "text": text}))
        events.extend(_interruption(reply, len(texts)))
        events.append({"type": "content_block_stop", "index": 0})
        index = 1
    for offset, use in enumerate(tool_uses):
        i = index + offset
        events.append(
            _block_start(i, {"type": "tool_use", "id": use["id"], "name": use["name"], "input": {}})
        )
        raw: str = use["input_json"] if "input_json" in use else json.dumps(use["input"])
        for n, piece in enumerate(["", *_pieces(raw, use.get("fragments", 2))]):
            events.append(_delta(i, {"type": "input_json_delta", "partial_json": piece}))
            if use.get("hold_after") == n:  # the call half written, until the gate opens
                events.append(_Hold(use["gate"]))
        events.append({"type": "content_block_stop", "index": i})
    stop = reply.get("stop_reason") or ("tool_use" if tool_uses else "end_turn")
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": 5 + len(texts)},
        }
    )
    if not reply.get("no_message_stop"):
        events.append({"type": "message_stop"})
    return events


def _pieces(text: str, count: int) -> list[str]:
    """`text` cut into `count` pieces of (nearly) equal length, none empty."""
    count = max(1, min(count, len(text)))
    size, extra = divmod(len(text), count)
    bounds = [n * size + min(n, extra) for n in range(count + 1)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _interruption(reply: JsonDict, sent: int) -> list[Any]:
    """What happens after `sent` text deltas: nothing, an error event, a cut, a stall, a hold."""
    if reply.get("error_event_after") == sent:
        return [
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            _CUT,
        ]
    if reply.get("cut_after") == sent:
        return [_CUT]
    if reply.get("stall_after") == sent:
        return [_STALL]
    if reply.get("hold_after") == sent:
        return [_Hold(reply["gate"])]
    return []


def _block_start(index: int, block: JsonDict) -> JsonDict:
    return {"type": "content_block_start", "index": index, "content_block": block}


def _delta(index: int, delta: JsonDict) -> JsonDict:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def _last_user_text(body: JsonDict) -> str:
    """The text of the last user turn, tool results included."""
    messages: list[JsonDict] = body.get("messages", [])
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    blocks: list[JsonDict] = content or []
    for block in blocks:
        if block.get("type") == "text":
            parts.append(block["text"])
        elif block.get("type") == "tool_result":
            parts.append(_text_of(block.get("content")))
    return "\n".join(parts)


def _default_reply(body: JsonDict) -> JsonDict:
    messages: list[JsonDict] = body.get("messages", [])
    last = messages[-1] if messages else {}
    content: Any = last.get("content")
    blocks: list[JsonDict] = content if isinstance(content, list) else []  # pyright: ignore[reportUnknownVariableType]
    results = [b for b in blocks if b.get("type") == "tool_result"]
    if results:
        failed = any(r.get("is_error") for r in results)
        text = ("Tool failed: " if failed else "Tool finished: ") + _text_of(results)
    else:
        text = "Echo: " + _last_user_text(body)
    words = text.split(" ")
    return {"text": [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]}


# ── minimal HTTP/1.1 ─────────────────────────────────────────────────────────────────────────


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, dict[str, str], bytes] | None:
    line = await reader.readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return method, path, headers, body


def _error_body(kind: str, message: str, request_id: str | None = None) -> JsonDict:
    body: JsonDict = {"type": "error", "error": {"type": kind, "message": message}}
    if request_id:
        body["request_id"] = request_id
    return body


async def _send_json(
    writer: asyncio.StreamWriter,
    status: int,
    payload: Any,
    request_id: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> None:
    data = json.dumps(payload).encode()
    headers = {"content-type": "application/json", "content-length": str(len(data))}
    if request_id:
        headers["request-id"] = request_id
    headers.update(extra_headers or {})
    head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(head.encode() + b"\r\n" + data)
    await writer.drain()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    async def run() -> None:
        server = ModelServer(port=args.port)
        await server.start()
        print(f"ready {server.port}", flush=True)  # noqa: T201
        assert server._server is not None  # pyright: ignore[reportPrivateUsage]
        await server._server.serve_forever()  # pyright: ignore[reportPrivateUsage]

    asyncio.run(run())


if __name__ == "__main__":
    main()
