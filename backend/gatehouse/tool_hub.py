"""Every MCP tool the app offers Claude, behind one object: the built-in `workspace` server
(connected in memory) and the servers of `MCP_CONFIG` (stdio or streamable HTTP).

Each external server has one owner task that enters and exits its `Client` itself (anyio
cancel scopes must be left by the task that entered them), lists its tools, and on a crash
or a failed connect withdraws them and reconnects with exponential backoff. Request handlers
only use `call`, which never raises for tool-level problems: it returns a `ToolOutcome`.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, cast

import anyio
import anyio.abc
import httpx2
import jsonschema
import structlog
from jsonschema.protocols import Validator
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import MCPServer
from mcp.shared.message import SessionMessage
from mcp.types import (
    CONNECTION_CLOSED,
    REQUEST_TIMEOUT,
    CallToolResult,
    ImageContent,
    Implementation,
    TextContent,
    Tool,
)
from pydantic import ValidationError

from gatehouse.mcp_config import HttpServerConfig, ServerConfig, StdioServerConfig
from gatehouse.metrics import MCP_ERRORS_TOTAL
from gatehouse.safe_paths import InvalidPath, locate_in_workspace, normalise_relative
from gatehouse.sanitise import clean_json, clean_text
from gatehouse.workspace_server import (
    INVALID_ARGUMENTS,
    SERVER_NAME,
    TOOL_ERROR,
    TOOL_NAME,
    WorkspaceServer,
    parse_tool_error,
)

log = structlog.get_logger(__name__)

ProgressCallback = Callable[[float, float | None, str | None], Awaitable[None]]
ServerState = Literal["ready", "connecting", "disconnected"]

TOOL_TIMEOUT = "tool_timeout"
SERVER_UNAVAILABLE = "server_unavailable"

_CLAUDE_NAME_BAD_CHARS = re.compile(r"[^a-zA-Z0-9_-]")
_CLAUDE_NAME_MAX = 64
_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_MAX_SCHEMA_ERRORS = 10
_MAX_TEXT_BLOCK = 100_000
_CLIENT_INFO = Implementation(name="gatehouse", version="0.1.0")
_DRAFTS: dict[str, type[Validator]] = {
    str(draft.META_SCHEMA.get("$id", draft.META_SCHEMA.get("id", ""))).rstrip("#"): draft
    for draft in (
        jsonschema.Draft4Validator,
        jsonschema.Draft6Validator,
        jsonschema.Draft7Validator,
        jsonschema.Draft201909Validator,
        jsonschema.Draft202012Validator,
    )
}


@dataclass(frozen=True)
class ToolInfo:
    """One tool as Claude sees it, and where it really lives."""

    claude_name: str
    server: str
    mcp_name: str
    input_schema: dict[str, Any]
    destructive: bool
    builtin: bool
    description: str = ""


@dataclass(frozen=True)
class ToolOutcome:
    """The result of one call, ready to become an Anthropic `tool_result`."""

    is_error: bool
    code: str | None
    message: str | None
    content: list[dict[str, Any]]


class ToolHub:
    """Connects the MCP servers, offers their tools to Claude and runs approved calls.

    Use as `async with ToolHub(workspace_server, configs, call_timeout_s) as hub:`. Start-up
    waits at most `startup_wait_s` for the servers' first connection attempts; a server that
    is slower (or never comes up) joins later, as soon as it connects.
    """

    def __init__(
        self,
        workspace: MCPServer[Any],
        servers: Sequence[ServerConfig],
        call_timeout_s: float,
        *,
        startup_wait_s: float = 5.0,
        connect_timeout_s: float = 10.0,
        initial_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
    ) -> None:
        self._workspace = workspace if isinstance(workspace, WorkspaceServer) else None
        self._call_timeout_s = call_timeout_s
        self._startup_wait_s = startup_wait_s
        backoff = _Backoff(initial_backoff_s, max_backoff_s)
        builtin = _ServerLink(
            SERVER_NAME, lambda _lost: workspace, True, connect_timeout_s, backoff, self._rebuild
        )
        self._links: dict[str, _ServerLink] = {SERVER_NAME: builtin}
        for config in servers:
            if config.name in self._links:
                raise ValueError(f"MCP server name {config.name!r} is used twice")
            self._links[config.name] = _ServerLink(
                config.name,
                _transport_factory(config),
                False,
                connect_timeout_s,
                backoff,
                self._rebuild,
            )
        self._catalogue: dict[str, ToolInfo] = {}
        self._validators: dict[str, Validator | None] = {}
        self._routes: dict[str, str] = {}  # every Claude name ever offered → its server
        self._stack: AsyncExitStack | None = None

    async def __aenter__(self) -> ToolHub:
        async with AsyncExitStack() as stack:
            tasks = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tasks.cancel_scope.cancel)  # runs first on exit: stop the owners
            for link in self._links.values():
                tasks.start_soon(link.run, name=f"mcp-owner:{link.name}")
            with anyio.move_on_after(self._startup_wait_s):
                for link in self._links.values():
                    await link.first_attempt.wait()
            self._stack = stack.pop_all()
        slow = [name for name, state in self.servers_status().items() if state != "ready"]
        log.info("tool_hub_started", servers=self.servers_status(), not_ready=slow)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    # ── what Claude sees ──────────────────────────────────────────────────────────────────
    def tools_for_claude(self) -> list[dict[str, Any]]:
        """Anthropic tool params for every tool of every connected server."""
        return [
            {"name": i.claude_name, "description": i.description, "input_schema": i.input_schema}
            for i in self._catalogue.values()
        ]

    def lookup(self, claude_name: str) -> ToolInfo | None:
        """The tool behind a Claude tool name, while its server is connected."""
        return self._catalogue.get(claude_name)

    def servers_status(self) -> dict[str, str]:
        return {name: link.state for name, link in self._links.items()}

    def unavailable_server(self, claude_name: str) -> str | None:
        """The server of a tool it offered before but cannot run now (it is down)."""
        if claude_name in self._catalogue:
            return None
        return self._routes.get(claude_name)

    def validate_input(self, claude_name: str, tool_input: object) -> list[str]:
        """JSON-schema errors of `tool_input` as short messages; empty when it is valid."""
        if claude_name not in self._catalogue:
            return [f"unknown tool {claude_name!r}"]
        validator = self._validators.get(claude_name)
        if validator is None:
            return [] if isinstance(tool_input, dict) else ["input must be an object"]
        try:
            found = list(validator.iter_errors(cast(Any, tool_input)))
        except Exception as exc:  # e.g. an unresolvable $ref: leave the checking to the server
            log.warning("mcp_schema_unusable", tool=claude_name, error=repr(exc))
            return []
        errors = sorted(found, key=lambda e: [str(part) for part in e.absolute_path])
        return [_schema_error_text(error) for error in errors[:_MAX_SCHEMA_ERRORS]]

    def preview(self, claude_name: str, tool_input: object) -> dict[str, Any] | None:
        """What a built-in create_file call would do, computed without writing anything."""
        info = self._catalogue.get(claude_name)
        if info is None or not info.builtin or info.mcp_name != TOOL_NAME:
            return None
        if self._workspace is None or not isinstance(tool_input, dict):
            return None
        args = cast(dict[str, Any], tool_input)
        return _create_file_preview(self._workspace, args.get("path"), args.get("content"))

    # ── calls ─────────────────────────────────────────────────────────────────────────────
    async def call(
        self, claude_name: str, tool_input: object, on_progress: ProgressCallback
    ) -> ToolOutcome:
        """Run one (approved) call with the hub's timeout, relaying progress in order.

        Cancelling the awaiting task propagates; the SDK then tells the server to stop.
        """
        info = self._catalogue.get(claude_name)
        if info is None:
            server = self.unavailable_server(claude_name)
            if server is not None:
                return _unavailable(server, self._links[server].state)
            return _failure(TOOL_ERROR, f"unknown tool {claude_name!r}")
        if not isinstance(tool_input, dict):
            return _failure(TOOL_ERROR, "tool input must be a JSON object")
        link = self._links[info.server]
        client = link.client
        if client is None:
            return _unavailable(info.server, link.state)
        gate = _ProgressGate(on_progress)
        try:
            result = await client.call_tool(
                info.mcp_name,
                cast(dict[str, Any], tool_input),
                read_timeout_seconds=self._call_timeout_s,
                progress_callback=gate,
            )
        except MCPError as exc:
            return self._call_error(link, client, info, exc)
        except ValidationError:
            MCP_ERRORS_TOTAL.labels(server=info.server).inc()
            log.warning("mcp_invalid_result", server=info.server, tool=info.mcp_name)
            return _failure(TOOL_ERROR, f"the MCP server '{info.server}' sent an invalid result")
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, httpx2.HTTPError, OSError):
            link.mark_lost(client)
            return _unavailable(info.server, "disconnected")
        except Exception:  # the contract: tool-level problems never raise
            MCP_ERRORS_TOTAL.labels(server=info.server).inc()
            log.exception("mcp_call_failed", server=info.server, tool=info.mcp_name)
            return _failure(TOOL_ERROR, f"calling the MCP server '{info.server}' failed")
        finally:
            await gate.close()
        return _outcome(result, info)

    def _call_error(
        self, link: _ServerLink, client: Client, info: ToolInfo, exc: MCPError
    ) -> ToolOutcome:
        if exc.code == CONNECTION_CLOSED:
            link.mark_lost(client)  # the owner task counts the failure and reconnects
            return _unavailable(info.server, "disconnected")
        MCP_ERRORS_TOTAL.labels(server=info.server).inc()
        if exc.code == REQUEST_TIMEOUT:
            log.warning("mcp_call_timeout", server=info.server, tool=info.mcp_name)
            return _failure(
                TOOL_TIMEOUT,
                f"the tool did not finish within {self._call_timeout_s:g} s and was stopped",
            )
        log.warning("mcp_call_error", server=info.server, tool=info.mcp_name, code=exc.code)
        return _failure(TOOL_ERROR, f"MCP error {exc.code}: {exc.message}")

    # ── the catalogue ─────────────────────────────────────────────────────────────────────
    def _rebuild(self) -> None:
        """Recompute Claude's tool list after a server connected or went away."""
        catalogue: dict[str, ToolInfo] = {}
        validators: dict[str, Validator | None] = {}
        for link in self._links.values():
            for tool in link.tools:
                try:
                    info = _tool_info(link.name, link.builtin, tool, catalogue)
                    validator = _validator_for(link.name, tool)
                except Exception as exc:  # one odd tool must not take its server's others down
                    log.warning(
                        "mcp_tool_skipped", server=link.name, tool=tool.name, error=repr(exc)
                    )
                    continue
                catalogue[info.claude_name] = info
                validators[info.claude_name] = validator
                self._routes[info.claude_name] = link.name
        self._catalogue, self._validators = catalogue, validators


# ── one server connection ────────────────────────────────────────────────────────────────
Transport = AbstractAsyncContextManager[tuple[Any, Any]]
ClientTarget = MCPServer[Any] | Transport
_TargetFactory = Callable[[anyio.Event], ClientTarget]


@dataclass
class _Backoff:
    initial_s: float
    max_s: float

    def next(self, current: float | None) -> float:
        return self.initial_s if current is None else min(current * 2, self.max_s)


class _ServerLink:
    """One MCP server: its owner task, its current client and its tools."""

    # A connection that stayed up this long counts as healthy: the next failure starts the
    # backoff from the beginning again.
    STABLE_AFTER_S = 10.0

    def __init__(
        self,
        name: str,
        target: _TargetFactory,
        builtin: bool,
        connect_timeout_s: float,
        backoff: _Backoff,
        on_change: Callable[[], None],
    ) -> None:
        self.name = name
        self.builtin = builtin
        self.state: ServerState = "connecting"
        self.client: Client | None = None
        self.tools: list[Tool] = []
        self.first_attempt = anyio.Event()
        self._target = target
        self._connect_timeout_s = connect_timeout_s
        self._backoff = backoff
        self._on_change = on_change
        self._lost = anyio.Event()

    def mark_lost(self, client: Client) -> None:
        """A call saw `client`'s connection close: withdraw now, and wake the owner task."""
        if client is self.client:
            self._withdraw()
            self._lost.set()

    async def run(self) -> None:
        """The owner task: connect, publish the tools, wait for a loss, retry with backoff."""
        delay: float | None = None
        while True:
            connected_at = await self._connect_once()
            if connected_at is not None and anyio.current_time() - connected_at >= (
                self.STABLE_AFTER_S
            ):
                delay = None
            delay = self._backoff.next(delay)
            log.info("mcp_server_retry", server=self.name, in_s=delay)
            await anyio.sleep(delay)

    async def _connect_once(self) -> float | None:
        """One connection, from connect to loss; returns when it connected (None: never)."""
        self.state = "connecting"
        lost = self._lost = anyio.Event()
        connected_at: float | None = None
        try:
            client = Client(
                self._target(lost),
                read_timeout_seconds=self._connect_timeout_s,
                client_info=_CLIENT_INFO,
                cache=None,
            )
            async with client:
                tools = await _list_all_tools(client)
                connected_at = anyio.current_time()
                self._publish(client, tools)
                await lost.wait()
            log.warning("mcp_server_lost", server=self.name)
        except Exception as exc:  # often an ExceptionGroup from the transport's task group
            event = "mcp_server_connect_failed" if connected_at is None else "mcp_server_lost"
            log.warning(event, server=self.name, error=_describe(exc))
        finally:
            self._withdraw()
            self.first_attempt.set()
        MCP_ERRORS_TOTAL.labels(server=self.name).inc()
        return connected_at

    def _publish(self, client: Client, tools: list[Tool]) -> None:
        self.client, self.tools, self.state = client, tools, "ready"
        log.info("mcp_server_ready", server=self.name, tools=[t.name for t in tools])
        self._on_change()
        self.first_attempt.set()

    def _withdraw(self) -> None:
        had_tools = bool(self.tools)
        self.client, self.tools, self.state = None, [], "disconnected"
        if had_tools:
            self._on_change()


async def _list_all_tools(client: Client) -> list[Tool]:
    tools: list[Tool] = []
    cursor: str | None = None
    for _ in range(100):  # a server whose cursor never ends cannot hang the connect
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools


def _transport_factory(config: ServerConfig) -> _TargetFactory:
    """Build a fresh transport per connection attempt, watched for the server going away."""

    def make(lost: anyio.Event) -> ClientTarget:
        if isinstance(config, StdioServerConfig):
            params = StdioServerParameters(
                command=config.command,
                args=list(config.args),
                env=dict(config.env) or None,
                cwd=config.cwd,
            )
            return _watch_for_eof(stdio_client(params), lost)
        return _watch_for_eof(_http_transport(config), lost)

    return make


@asynccontextmanager
async def _http_transport(config: HttpServerConfig) -> AsyncGenerator[tuple[Any, Any]]:
    timeout = httpx2.Timeout(30.0, read=300.0)
    async with httpx2.AsyncClient(headers=dict(config.headers), timeout=timeout) as http:
        async with streamable_http_client(config.url, http_client=http) as streams:
            yield streams


@asynccontextmanager
async def _watch_for_eof(
    transport: Transport, lost: anyio.Event
) -> AsyncGenerator[tuple[Any, Any]]:
    """Pass the transport through, setting `lost` when the server's stream ends.

    Without this a server that dies while idle would only be noticed by the next call.
    """
    async with transport as (read_stream, write_stream):
        relay_send, relay_receive = anyio.create_memory_object_stream[SessionMessage | Exception]()
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_relay_until_eof, read_stream, relay_send, lost)
            try:
                yield relay_receive, write_stream
            finally:
                tasks.cancel_scope.cancel()


async def _relay_until_eof(
    source: Any,
    sink: anyio.abc.ObjectSendStream[SessionMessage | Exception],
    lost: anyio.Event,
) -> None:
    try:
        async with sink:
            async for item in source:
                await sink.send(item)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        pass
    finally:
        lost.set()


# ── progress ─────────────────────────────────────────────────────────────────────────────
@dataclass
class _ProgressGate:
    """Delivers progress in rising order, and never after the call is over.

    The SDK runs each progress notification as its own task, so they can arrive out of
    order or after the result; deliveries are serialised, stale ones dropped, and `close`
    waits for one in flight before `call` returns.
    """

    sink: ProgressCallback
    _last: float = -math.inf
    _open: bool = True
    _lock: anyio.Lock = field(default_factory=anyio.Lock)

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        async with self._lock:
            if not self._open or progress <= self._last:
                return
            self._last = progress
            await self.sink(progress, total, message)

    async def close(self) -> None:
        self._open = False
        with anyio.CancelScope(shield=True):
            async with self._lock:
                pass


# ── helpers ──────────────────────────────────────────────────────────────────────────────
def _tool_info(server: str, builtin: bool, tool: Tool, taken: Mapping[str, ToolInfo]) -> ToolInfo:
    annotations = tool.annotations
    read_only = bool(annotations and annotations.read_only_hint)
    # MCP's default for destructiveHint is true: only an explicit false makes a tool harmless.
    destructive = not read_only and not (annotations and annotations.destructive_hint is False)
    schema = {k: v for k, v in (tool.input_schema or {}).items() if k != "$schema"}
    schema.setdefault("type", "object")
    # A server's texts go to Claude in every request: one unencodable string would fail them all.
    schema = clean_json(schema)
    return ToolInfo(
        claude_name=_claude_name(tool.name if builtin else f"{server}__{tool.name}", taken),
        server=server,
        mcp_name=tool.name,
        input_schema=schema,
        destructive=destructive,
        builtin=builtin,
        description=clean_text((tool.description or tool.title or tool.name)[:4096]),
    )


def _claude_name(raw: str, taken: Mapping[str, object]) -> str:
    """Claude wants `^[a-zA-Z0-9_-]{1,64}$`; MCP allows longer names, dots and more."""
    base = _CLAUDE_NAME_BAD_CHARS.sub("_", raw)[:_CLAUDE_NAME_MAX] or "tool"
    name, number = base, 2
    while name in taken:
        suffix = f"_{number}"
        name = base[: _CLAUDE_NAME_MAX - len(suffix)] + suffix
        number += 1
    return name


def _validator_for(server: str, tool: Tool) -> Validator | None:
    """A validator for the schema's declared draft (2020-12 when it declares none or another)."""
    schema = tool.input_schema or {"type": "object"}
    declared = str(schema.get("$schema", "")).rstrip("#")
    validator_class = _DRAFTS.get(declared, jsonschema.Draft202012Validator)
    try:
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as exc:
        log.warning("mcp_bad_input_schema", server=server, tool=tool.name, error=exc.message)
        return None
    return validator_class(schema)


def _schema_error_text(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(part) for part in error.absolute_path)
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return f"{where}: {message}" if where else message


def _create_file_preview(server: WorkspaceServer, path: object, content: object) -> dict[str, Any]:
    size = len(content.encode("utf-8", "surrogatepass")) if isinstance(content, str) else 0
    shown = path if isinstance(path, str) else ""
    try:
        shown = normalise_relative(cast(str, path))
        location = locate_in_workspace(server.workspace_dir, shown)
    except InvalidPath as exc:
        return _preview(shown, size, overwrite=False, problem=exc.reason, valid_path=False)
    problem = None
    if size > server.max_file_bytes:
        problem = f"content is {size} bytes; the limit is {server.max_file_bytes} bytes"
    # locate_in_workspace lets through only a regular file or nothing at the target.
    overwrite = not location.missing and os.path.lexists(location.path)
    return _preview(shown, size, overwrite=overwrite, problem=problem, valid_path=True)


def _preview(
    path: str, size: int, *, overwrite: bool, problem: str | None, valid_path: bool
) -> dict[str, Any]:
    return {
        "path": path,
        "bytes": size,
        "overwrite": overwrite,
        "valid_path": valid_path,
        "problem": problem,
    }


def _outcome(result: CallToolResult, info: ToolInfo) -> ToolOutcome:
    content = _content_blocks(result)
    if not result.is_error:
        return ToolOutcome(False, None, None, content)
    text = " ".join(b["text"] for b in content if b.get("type") == "text").strip()
    if info.builtin:
        code, message = parse_tool_error(text)
        if code == INVALID_ARGUMENTS:  # the schema check before a call makes this a server bug
            code = TOOL_ERROR
    else:
        code, message = TOOL_ERROR, text or "the tool reported an error"
    return ToolOutcome(True, code, message, content)


def _content_blocks(result: CallToolResult) -> list[dict[str, Any]]:
    """MCP content → Anthropic tool_result content (text and image blocks)."""
    blocks: list[dict[str, Any]] = []
    for item in result.content:
        if isinstance(item, TextContent):
            if item.text:  # Claude refuses an empty text block
                blocks.append({"type": "text", "text": clean_text(item.text)})
        elif isinstance(item, ImageContent) and item.mime_type in _IMAGE_TYPES:
            source = {"type": "base64", "media_type": item.mime_type, "data": item.data}
            blocks.append({"type": "image", "source": source})
        else:  # audio, resource links, embedded resources: described rather than dropped
            described = item.model_dump(mode="json", by_alias=True, exclude_none=True)
            blocks.append({"type": "text", "text": json.dumps(described)[:_MAX_TEXT_BLOCK]})
    if not blocks and result.structured_content is not None:
        blocks.append({"type": "text", "text": json.dumps(result.structured_content)})
    if not blocks:
        blocks.append({"type": "text", "text": "(no output)"})
    return blocks


def _failure(code: str, message: str) -> ToolOutcome:
    message = clean_text(message)  # it may quote what an MCP server sent
    return ToolOutcome(True, code, message, [{"type": "text", "text": f"[{code}] {message}"}])


def _unavailable(server: str, state: str) -> ToolOutcome:
    return _failure(SERVER_UNAVAILABLE, f"the MCP server '{server}' is not available ({state})")


def _describe(exc: BaseException) -> str:
    """The innermost error of a (nested) exception group, as one line."""
    while isinstance(exc, BaseExceptionGroup):
        group = cast(BaseExceptionGroup[BaseException], exc)
        exc = group.exceptions[0]
    return f"{type(exc).__name__}: {exc}"
