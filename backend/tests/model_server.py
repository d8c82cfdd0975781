"""A local stand-in for the Messages API that speaks its public wire format over real HTTP.

Tests script what "Claude" answers; the app reaches this server through the real `anthropic`
SDK (ANTHROPIC_BASE_URL). It writes SSE streams (`event:` + `data:` lines, `usage` in
`message_start` and `message_delta`, a `request-id` header), JSON error bodies, and the failure
modes a real connection has: a mid-stream `error` event, a dropped connection, a stall, a clean
end without `message_stop`.

Scripting, in Python (`ModelServer.script`) or over HTTP for other test runners:
    POST /_control/script  {"match": <substring of the last user turn>?, "reply": {}, "times": n?}
    POST /_control/reset    GET /_control/requests    POST /_control/release {"gate": name}
    POST /_control/models  {"models": [ids]?, "error": {status, type, message}?}
Reply keys: thinking (list of thinking deltas: a `thinking` block streams first, then its
`signature_delta`, signed by `thinking_signature`, when the request asks for thinking), text
(list of deltas), tool_uses ([{id, name, input, fragments?, input_json?}]: the input JSON
streams in `fragments` pieces, 2 by default; `input_json` sends that text instead, valid or not;
`hold_after` + `gate` stop after that many pieces), stop_reason (any value:
max_tokens, refusal, pause_turn), delay_ms, usage (counts that replace the reported ones),
thinking_hold (a gate: the thinking streams, then the reply waits there until released),
http_error ({status, type, message, headers?}), error_event_after (n deltas), cut_after,
stall_after, hold_after + gate, no_message_stop, close_after (close the connection once the
reply is sent, with no `connection: close` header); for load tests, deltas ({count, min_bytes,
max_bytes}: generated text instead of `text`), sse (a recorded event stream, sent as it is,
one event per chunk) and stamp (true: each text delta starts with
`@<time.time_ns() when sent>@`, the first with `@<sent>@<request received>@`).
Unscripted requests get an echo of the last user turn. A request without `stream: true` (a
conversation's title) is answered with one JSON Message holding the reply's text.

`usage` is reported as the API does (tests/model_usage.py): `cache_control` breakpoints (at
most 4) write and read prompt-cache prefixes, `input_tokens` is the rest, `output_tokens` an
estimate of the reply's size; image and document blocks are checked as the API checks them.
`GET /v1/models` answers as the API's models list: pages of `data` (`limit`, `after_id`,
`before_id`) with `has_more`, `first_id` and `last_id`; `set_models` scripts its ids or an
error. Thinking follows the API's rules per model: the newest models (Opus 4.7+, the 5
family) refuse `thinking: {type: "enabled"}` with its 400, those up to 4.5 refuse `adaptive`,
and a budget must be at least 1024 and below `max_tokens`.

Every request body is checked against the rules the real API enforces on a conversation
(`request_problems`: the person first, alternating roles, each `tool_use` answered once at the
start of the next message, unique ids, valid Unicode, and every `thinking` or
`redacted_thinking` block handed back exactly as this server sent it, signature included). A
request that breaks one is answered 400 `invalid_request_error`, as the API would, and recorded
in `violations`; the `model` fixture fails any test that leaves one.

The models of `NO_PREFILL_MODELS` refuse an assistant prefill (a request whose last message is
Claude's, unless it is a paused server-tool turn handed back) with the API's 400. That answer
is part of the API's contract, not a violation: `prefill_refusals` counts them.

Run alone: python -m tests.model_server --port 0   (prints "ready <port>")
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any, cast

from tests.model_usage import PromptCache, attachment_problems, estimate_tokens

JsonDict = dict[str, Any]
DEFAULT_MODELS = (
    "claude-opus-4-8",
    "claude-opus-4-7",
    "claude-sonnet-4-6",
    "claude-opus-4-6",
    "claude-haiku-4-5",
    "claude-sonnet-4-5",
)
# Which thinking mode a model refuses, by its name (the API's own messages).
_ADAPTIVE_ONLY = re.compile(r"claude-(opus-4-[7-9]|[a-z]+-5(-\d+)?)$")
_ENABLED_ONLY = re.compile(r"claude-([a-z]+-4-[0-5]|3-.*)(-\d{8})?$")
ENABLED_REFUSED = (
    '"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" '
    'and "output_config.effort" to control thinking behavior.'
)
ADAPTIVE_REFUSED = "adaptive thinking is not supported on this model"
_SIGNING_KEY = b"model-server-thinking"


def thinking_signature(thinking: str) -> str:
    """The signature the server gives a thinking block; it checks it when handed back."""
    digest = hmac.new(_SIGNING_KEY, thinking.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# Claude 4.6 and later answer a prefill with this 400; `claude-test-no-prefill` is one the app
# has no rule for, so it learns from the answer.
NO_PREFILL_MODELS = frozenset(
    {"claude-sonnet-4-6", "claude-opus-4-6", "claude-opus-4-7", "claude-test-no-prefill"}
)
PREFILL_REFUSED = (
    "This model does not support assistant message prefill. "
    "The conversation must end with a user message."
)
THINKING_CHANGED = (
    "`thinking` or `redacted_thinking` blocks in the latest assistant message cannot be "
    "modified. These blocks must remain as they were in the original response."
)
THINKING_TYPES = frozenset({"thinking", "redacted_thinking"})


@dataclass
class Recorded:
    headers: dict[str, str]
    body: JsonDict
    client_port: int = 0  # the same port on two requests: one kept-alive connection
    usage: JsonDict = field(default_factory=lambda: dict[str, Any]())  # as reported to it
    reply: JsonDict | None = None  # the script (or default reply) it was answered with


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
    prefill_refusals: int = 0
    # every thinking block sent, by signature (redacted: by data), as it was sent
    issued_thinking: dict[str, JsonDict] = field(default_factory=lambda: dict[str, JsonDict]())
    models: list[str] = field(default_factory=lambda: list(DEFAULT_MODELS))
    models_error: JsonDict | None = None  # {status, type, message}: the models list fails
    _scripts: list[_Script] = field(default_factory=lambda: list[_Script]())
    _gates: dict[str, asyncio.Event] = field(default_factory=lambda: dict[str, asyncio.Event]())
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncio.Server | None = None
    cache: PromptCache = field(default_factory=PromptCache)  # what prompt caching has written

    # ── scripting (thread-safe) ─────────────────────────────────────────────────────────────
    def script(self, reply: JsonDict, *, match: str | None = None, times: int = 1) -> None:
        with self._lock:
            self._scripts.append(_Script(reply, match, times))

    def set_models(self, models: list[str] | None = None, error: JsonDict | None = None) -> None:
        with self._lock:
            self.models = list(DEFAULT_MODELS if models is None else models)
            self.models_error = error

    def reset(self) -> None:
        self.set_models()
        with self._lock:
            self._scripts.clear()
            self.requests.clear()
            self.violations.clear()
            self.issued_thinking.clear()
            self.prefill_refusals = 0
        self.cache.clear()

    def release(self, gate: str) -> None:
        loop = self._loop
        assert loop is not None
        loop.call_soon_threadsafe(self._gate(gate).set)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def _take(self, body: JsonDict) -> JsonDict | None:
        last = last_user_text(body)
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
        path, _, query = path.partition("?")
        if method == "POST" and path.endswith("/v1/messages"):
            return await self._messages(writer, headers, json.loads(body or b"{}"))
        if method == "GET" and path.endswith("/v1/models"):
            await self._models(writer, headers, _query(query))
            return True
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
        elif method == "POST" and path == "/_control/models":
            self.set_models(payload.get("models"), payload.get("error"))
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
        recorded = Recorded(headers, body, writer.get_extra_info("peername")[1])
        with self._lock:
            self.requests.append(recorded)
        if not (headers.get("authorization") or headers.get("x-api-key")):
            error = _error_body("authentication_error", "x-api-key header is required")
            await _send_json(writer, 401, error, request_id)
            return True
        if _refuses_prefill(body):
            with self._lock:
                self.prefill_refusals += 1
            error = _error_body("invalid_request_error", PREFILL_REFUSED, request_id)
            await _send_json(writer, 400, error, request_id)
            return True
        if refusal := thinking_refusal(body):  # the API's answer, not a mistake of the app's
            error = _error_body("invalid_request_error", refusal, request_id)
            await _send_json(writer, 400, error, request_id)
            return True
        with self._lock:
            issued = dict(self.issued_thinking)
        problems = request_problems(body, issued) + attachment_problems(body)
        if breakpoints := self.cache.breakpoint_problem(body):
            problems.append(breakpoints)
        if problems:
            with self._lock:
                self.violations.extend(f"{request_id}: {problem}" for problem in problems)
            error = _error_body("invalid_request_error", problems[0], request_id)
            await _send_json(writer, 400, error, request_id)
            return True
        reply = self._take(body) or _default_reply(body)
        recorded.reply = reply
        if "http_error" in reply:
            spec: JsonDict = reply["http_error"]
            error = _error_body(spec["type"], spec["message"], request_id)
            extra = {"retry-after-ms": "1", **spec.get("headers", {})}
            await _send_json(writer, spec["status"], error, request_id, extra)
            return True
        if "sse" in reply:
            self._issue_thinking(_recorded_events(reply["sse"]))
            return await _send_recorded(writer, reply["sse"], request_id)
        usage = {**self.cache.usage(body), **reply.get("usage", {})}
        recorded.usage = usage
        reply = {**reply, "usage": usage}
        if not body.get("stream"):
            await _send_json(writer, 200, _whole_message(body, reply, request_id), request_id)
            return True
        return await self._stream(writer, body, reply, request_id, received_ns)

    def _issue_thinking(self, events: list[Any]) -> None:
        """Remember the thinking blocks of a stream, as a client accumulates them."""
        blocks: dict[int, JsonDict] = {}
        for event in events:
            if not isinstance(event, dict):
                continue  # a cut, a stall or a hold
            event = cast(JsonDict, event)
            index: int = event.get("index", -1)
            if event.get("type") == "content_block_start":
                blocks[index] = dict(event["content_block"])
            elif event.get("type") == "content_block_delta" and index in blocks:
                block, delta = blocks[index], event["delta"]
                if delta.get("type") == "thinking_delta":
                    block["thinking"] = block.get("thinking", "") + delta["thinking"]
                elif delta.get("type") == "signature_delta":
                    block["signature"] = delta["signature"]
        with self._lock:
            for block in blocks.values():
                if key := _thinking_key(block):
                    self.issued_thinking[key] = block

    async def _models(
        self, writer: asyncio.StreamWriter, headers: dict[str, str], query: dict[str, str]
    ) -> None:
        request_id = f"req_test_{next(self._ids):04d}"
        with self._lock:
            models, error = list(self.models), self.models_error
        if not (headers.get("authorization") or headers.get("x-api-key")):
            error = _error_spec(401, "authentication_error", "invalid x-api-key")
        if error is not None:  # x-should-retry: false, so the SDK does not retry it
            body = _error_body(error["type"], error["message"], request_id)
            await _send_json(writer, error["status"], body, request_id, {"x-should-retry": "false"})
            return
        await _send_json(writer, 200, models_page(models, query), request_id)

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
        events = _events(body, reply)
        self._issue_thinking(events)
        for n, event in enumerate(events):
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


def _recorded_events(recorded: str) -> list[JsonDict]:
    events: list[JsonDict] = []
    for event in recorded.strip().split("\n\n"):
        for line in event.splitlines():
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
    return events


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


def _error_spec(status: int, kind: str, message: str) -> JsonDict:
    return {"status": status, "type": kind, "message": message}


def models_page(models: list[str], query: dict[str, str]) -> JsonDict:
    """One page of the models list, as `GET /v1/models` answers (newest first)."""
    limit = max(1, min(int(query.get("limit", "20")), 1000))
    start, end = 0, len(models)
    if "after_id" in query and query["after_id"] in models:
        start = models.index(query["after_id"]) + 1
    if "before_id" in query and query["before_id"] in models:
        end = models.index(query["before_id"])
        start = max(start, end - limit)
    page = models[start:end][:limit]
    data = [
        {
            "type": "model",
            "id": model,
            "display_name": _display_name(model),
            "created_at": "2026-01-01T00:00:00Z",
        }
        for model in page
    ]
    return {
        "data": data,
        "has_more": start + len(page) < end,
        "first_id": page[0] if page else None,
        "last_id": page[-1] if page else None,
    }


def _display_name(model: str) -> str:
    """`claude-sonnet-4-6` → `Claude Sonnet 4.6`, as the API names them."""
    words = model.split("-")
    family = [w.capitalize() for w in words if not w.isdigit()]
    version = ".".join(w for w in words if w.isdigit())
    return " ".join([*family, version] if version else family)


def _query(query: str) -> dict[str, str]:
    pairs = (item.partition("=") for item in query.split("&") if item)
    return {name: value for name, _, value in pairs}


def thinking_refusal(body: JsonDict) -> str | None:
    """The API's 400 for a thinking request this model (or these limits) does not take."""
    thinking: JsonDict = body.get("thinking") or {}
    model = str(body.get("model", ""))
    kind = thinking.get("type")
    if kind == "enabled" and _ADAPTIVE_ONLY.fullmatch(model):
        return ENABLED_REFUSED
    if kind == "adaptive" and _ENABLED_ONLY.fullmatch(model):
        return ADAPTIVE_REFUSED
    if kind == "enabled":
        budget = thinking.get("budget_tokens", 0)
        if not 1024 <= budget < body.get("max_tokens", 0):
            return "thinking.budget_tokens: must be ≥ 1024 and less than max_tokens"
    return None


# ── what the real API refuses ────────────────────────────────────────────────────────────────

_TOOL_USE_ID = re.compile(r"[a-zA-Z0-9_-]+")


def request_problems(body: JsonDict, issued: dict[str, JsonDict] | None = None) -> list[str]:
    """Why the Messages API would refuse this request's conversation (empty: it would not).

    With `issued` (the thinking blocks sent, by `_thinking_key`), each thinking block handed
    back must be one of them, unchanged."""
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
            problems += _thinking_problems(where, blocks, issued)
    if asked:
        problems.append(_unanswered(len(messages) - 1, asked))
    return problems + _prefill_problems(messages) + _thinking_first_problems(body)


def _thinking_first_problems(body: JsonDict) -> list[str]:
    """With thinking on, the assistant message the reply goes on from (answered by tool
    results) must start with its thinking block, as the API says."""
    thinking: JsonDict = body.get("thinking") or {}
    messages: list[JsonDict] = body.get("messages") or []
    if thinking.get("type") not in ("enabled", "adaptive") or len(messages) < 2:
        return []
    last, before = _content_blocks(messages[-1].get("content")), messages[-2]
    if not any(block.get("type") == "tool_result" for block in last):
        return []
    blocks = _content_blocks(before.get("content"))
    if blocks and blocks[0].get("type") in ("thinking", "redacted_thinking"):
        return []
    found = blocks[0].get("type") if blocks else "nothing"
    return [
        f"messages.{len(messages) - 2}.content.0.type: Expected `thinking` or "
        f"`redacted_thinking`, but found `{found}`. When `thinking` is enabled, a final "
        "`assistant` message must start with a thinking block (preceeding the lastmost set of "
        "`tool_use` and `tool_result` blocks)."
    ]


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


def _refuses_prefill(body: JsonDict) -> bool:
    """A model of NO_PREFILL_MODELS asked to go on from a final assistant message; a paused
    server-tool turn handed back as-is is how the API itself asks to be continued."""
    messages: list[JsonDict] = body.get("messages") or []
    if body.get("model") not in NO_PREFILL_MODELS or not messages:
        return False
    last = messages[-1]
    blocks = _content_blocks(last.get("content"))
    paused = any(block.get("type") == "server_tool_use" for block in blocks)
    return last.get("role") == "assistant" and not paused


def _thinking_key(block: JsonDict) -> str | None:
    if block.get("type") == "thinking":
        return f"thinking:{block.get('signature')}"
    if block.get("type") == "redacted_thinking":
        return f"redacted_thinking:{block.get('data')}"
    return None


def _thinking_problems(
    where: str, blocks: list[JsonDict], issued: dict[str, JsonDict] | None
) -> list[str]:
    problems: list[str] = []
    for n, block in enumerate(blocks):
        if block.get("type") not in THINKING_TYPES:
            continue
        if block.get("type") == "thinking" and not block.get("signature"):
            problems.append(f"{where}.content.{n}.thinking.signature: Field required")
        elif issued is not None and issued.get(_thinking_key(block) or "") != block:
            problems.append(f"{where}.content.{n}: {THINKING_CHANGED}")
    return problems


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
                "usage": {**_start_usage(reply), "output_tokens": 1},
            },
        }
    ]
    index = 0
    thinking: JsonDict = body.get("thinking") or {}
    if reply.get("thinking") and thinking.get("type") in ("enabled", "adaptive"):
        shown = thinking.get("display") != "omitted"  # omitted: the signature only
        events += _thinking_events(reply["thinking"] if shown else [], reply)
        index = 1
    if texts:
        events.append(_block_start(index, {"type": "text", "text": ""}))
        events.append({"type": "ping"})
        for n, text in enumerate(texts):
            events.extend(_interruption(reply, n))
            events.append(_delta(index, {"type": "text_delta", "text": text}))
        events.extend(_interruption(reply, len(texts)))
        events.append({"type": "content_block_stop", "index": index})
        index += 1
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
            "usage": {"output_tokens": _output_tokens(reply, texts, tool_uses)},
        }
    )
    if not reply.get("no_message_stop"):
        events.append({"type": "message_stop"})
    return events


def _start_usage(reply: JsonDict) -> JsonDict:
    """`message_start`'s usage: what the cache reported for the request, or what was scripted."""
    usage: JsonDict = reply.get("usage") or {}
    return {
        "input_tokens": usage.get("input_tokens", 10),
        "cache_creation_input_tokens": usage.get("cache_creation_input_tokens", 0),
        "cache_read_input_tokens": usage.get("cache_read_input_tokens", 0),
    }


def _output_tokens(reply: JsonDict, texts: list[str], tool_uses: list[JsonDict]) -> int:
    usage: JsonDict = reply.get("usage") or {}
    if "output_tokens" in usage:
        return usage["output_tokens"]
    return estimate_tokens("".join(texts)) + sum(estimate_tokens(use) for use in tool_uses)


def _thinking_events(pieces: list[str], reply: JsonDict) -> list[Any]:
    """A thinking block at index 0: its deltas, then its signature just before it stops."""
    events: list[Any] = [_block_start(0, {"type": "thinking", "thinking": "", "signature": ""})]
    for piece in pieces:
        events.append(_delta(0, {"type": "thinking_delta", "thinking": piece}))
    if "thinking_hold" in reply:  # the thinking is shown; the answer waits for the gate
        events.append(_Hold(reply["thinking_hold"]))
    signature = thinking_signature("".join(pieces))
    events.append(_delta(0, {"type": "signature_delta", "signature": signature}))
    events.append({"type": "content_block_stop", "index": 0})
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


def last_user_text(body: JsonDict) -> str:
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


def _whole_message(body: JsonDict, reply: JsonDict, request_id: str) -> JsonDict:
    """A request without `stream`: the reply's text as one Message object."""
    text = "".join(reply.get("text", []))
    return {
        "id": f"msg_{request_id}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "claude-test"),
        "content": [{"type": "text", "text": text}],
        "stop_reason": reply.get("stop_reason", "end_turn"),
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": max(1, len(text.split()))},
    }


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
        text = "Echo: " + last_user_text(body)
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
