"""Every MCP tool the app offers Claude, behind one object: the built-in `workspace` server
(connected in memory) and the servers of `MCP_CONFIG` (stdio or streamable HTTP).

The hub joins three parts: a `ServerLink` supervises each server (server_link.py), the
`Catalogue` names and validates the tools of the connected ones (tool_catalogue.py), and
tool_results.py maps what a call returns. Request handlers only use `call`, which never
raises for tool-level problems: it returns a `ToolOutcome`.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, cast

import anyio
import httpx2
import structlog
from mcp import Client, MCPError
from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT
from pydantic import ValidationError

from gatehouse.mcp_config import ServerConfig
from gatehouse.metrics import MCP_ERRORS_TOTAL
from gatehouse.server_link import (
    Backoff,
    ServerLink,
    TargetFactory,
    in_memory,
    transport_factory,
)
from gatehouse.tool_catalogue import Catalogue, ToolInfo
from gatehouse.tool_results import (
    TOOL_TIMEOUT,
    ToolOutcome,
    failure,
    outcome_of,
    unavailable,
)
from gatehouse.workspace_server import SERVER_NAME, TOOL_ERROR, WorkspaceServer

__all__ = ["ProgressCallback", "ToolHub", "ToolInfo", "ToolOutcome"]

log = structlog.get_logger(__name__)

ProgressCallback = Callable[[float, float | None, str | None], Awaitable[None]]

_CONNECTION_ERRORS = (
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
    httpx2.HTTPError,
    OSError,
)


class ToolHub:
    """Connects the MCP servers, offers their tools to Claude and runs approved calls.

    Use as `async with ToolHub(workspace_server, configs, call_timeout_s) as hub:`. Start-up
    waits at most `startup_wait_s` for the servers' first connection attempts; a server that
    is slower (or never comes up) joins later, as soon as it connects.
    """

    def __init__(
        self,
        workspace: WorkspaceServer,
        servers: Sequence[ServerConfig],
        call_timeout_s: float,
        *,
        startup_wait_s: float = 5.0,
        connect_timeout_s: float = 10.0,
        initial_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
    ) -> None:
        self._call_timeout_s = call_timeout_s
        self._startup_wait_s = startup_wait_s
        self._catalogue = Catalogue(SERVER_NAME, workspace.builtin_tools)
        backoff = Backoff(initial_backoff_s, max_backoff_s)

        def link(name: str, target: TargetFactory) -> ServerLink:
            return ServerLink(name, target, connect_timeout_s, backoff, self._rebuild)

        self._links: dict[str, ServerLink] = {SERVER_NAME: link(SERVER_NAME, in_memory(workspace))}
        for config in servers:
            if config.name in self._links:
                raise ValueError(f"MCP server name {config.name!r} is used twice")
            self._links[config.name] = link(config.name, transport_factory(config))
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
        return self._catalogue.for_claude()

    def lookup(self, claude_name: str) -> ToolInfo | None:
        """The tool behind a Claude tool name, while its server is connected."""
        return self._catalogue.lookup(claude_name)

    def servers_status(self) -> dict[str, str]:
        return {name: link.state for name, link in self._links.items()}

    def unavailable_server(self, claude_name: str) -> str | None:
        """The server of a tool it offered before but cannot run now (it is down)."""
        return self._catalogue.former_server(claude_name)

    def validate_input(self, claude_name: str, tool_input: object) -> list[str]:
        """JSON-schema errors of `tool_input` as short messages; empty when it is valid."""
        return self._catalogue.validate(claude_name, tool_input)

    def preview(self, claude_name: str, tool_input: object) -> dict[str, Any] | None:
        """What a call would do, for a built-in tool that declares a preview; no side effects."""
        info = self._catalogue.lookup(claude_name)
        if info is None or not isinstance(tool_input, dict):
            return None
        preview = info.preview(cast(dict[str, object], tool_input))
        return preview.model_dump() if preview else None

    # ── calls ─────────────────────────────────────────────────────────────────────────────
    async def call(
        self,
        claude_name: str,
        tool_input: object,
        on_progress: ProgressCallback,
        *,
        builtin_meta: dict[str, Any] | None = None,
    ) -> ToolOutcome:
        """Run one (approved) call with the hub's timeout, relaying progress in order.

        `builtin_meta` goes with a call of a built-in tool only (who makes it, for the file
        versions); other servers never see it.

        Cancelling the awaiting task propagates; the SDK then tells the server to stop.
        """
        info = self._catalogue.lookup(claude_name)
        if info is None:
            server = self.unavailable_server(claude_name)
            if server is not None:
                return unavailable(server, self._links[server].state)
            return failure(TOOL_ERROR, f"unknown tool {claude_name!r}")
        if not isinstance(tool_input, dict):
            return failure(TOOL_ERROR, "tool input must be a JSON object")
        link = self._links[info.server]
        client = link.client
        if client is None:
            return unavailable(info.server, link.state)
        gate = _ProgressGate(on_progress)
        try:
            result = await client.call_tool(
                info.mcp_name,
                cast(dict[str, Any], tool_input),
                read_timeout_seconds=self._call_timeout_s,
                progress_callback=gate,
                meta=cast(Any, builtin_meta) if info.builtin else None,
            )
        except Exception as exc:  # the contract: tool-level problems never raise
            return self._call_failed(link, client, info, exc)
        finally:
            await gate.close()
        return outcome_of(result, builtin=info.builtin)

    def _call_failed(
        self, link: ServerLink, client: Client, info: ToolInfo, exc: Exception
    ) -> ToolOutcome:
        """The outcome of a call that raised (called while handling `exc`)."""
        if isinstance(exc, MCPError):
            return self._protocol_error(link, client, info, exc)
        if isinstance(exc, _CONNECTION_ERRORS):
            link.mark_lost(client)
            return unavailable(info.server, "disconnected")
        MCP_ERRORS_TOTAL.labels(server=info.server).inc()
        if isinstance(exc, ValidationError):
            log.warning("mcp_invalid_result", server=info.server, tool=info.mcp_name)
            return failure(TOOL_ERROR, f"the MCP server '{info.server}' sent an invalid result")
        log.exception("mcp_call_failed", server=info.server, tool=info.mcp_name)
        return failure(TOOL_ERROR, f"calling the MCP server '{info.server}' failed")

    def _protocol_error(
        self, link: ServerLink, client: Client, info: ToolInfo, exc: MCPError
    ) -> ToolOutcome:
        if exc.code == CONNECTION_CLOSED:
            link.mark_lost(client)  # the owner task counts the failure and reconnects
            return unavailable(info.server, "disconnected")
        MCP_ERRORS_TOTAL.labels(server=info.server).inc()
        if exc.code == REQUEST_TIMEOUT:
            log.warning("mcp_call_timeout", server=info.server, tool=info.mcp_name)
            return failure(
                TOOL_TIMEOUT,
                f"the tool did not finish within {self._call_timeout_s:g} s and was stopped",
            )
        log.warning("mcp_call_error", server=info.server, tool=info.mcp_name, code=exc.code)
        return failure(TOOL_ERROR, f"MCP error {exc.code}: {exc.message}")

    def _rebuild(self) -> None:
        """Recompute Claude's tool list after a server connected or went away."""
        self._catalogue.rebuild((link.name, link.tools) for link in self._links.values())


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
