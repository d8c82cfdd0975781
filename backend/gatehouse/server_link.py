"""Supervision of one MCP server: connect, list its tools, notice a loss, reconnect.

Each server has one owner task that enters and exits its `Client` itself (anyio cancel scopes
must be left by the task that entered them), lists its tools, and on a crash or a failed
connect withdraws them and reconnects with exponential backoff. The built-in `workspace`
server is connected in memory; the servers of `MCP_CONFIG` over stdio or streamable HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, cast

import anyio
import anyio.abc
import httpx2
import structlog
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import MCPServer
from mcp.shared.message import SessionMessage
from mcp.types import Implementation, Tool

from gatehouse.mcp_config import HttpServerConfig, ServerConfig, StdioServerConfig
from gatehouse.metrics import MCP_ERRORS_TOTAL
from gatehouse.tool_hints import clean_listing

log = structlog.get_logger(__name__)

ServerState = Literal["ready", "connecting", "disconnected"]
Transport = AbstractAsyncContextManager[tuple[Any, Any]]
ClientTarget = MCPServer[Any] | Transport
TargetFactory = Callable[[anyio.Event], ClientTarget]

_CLIENT_INFO = Implementation(name="gatehouse", version="0.1.0")


@dataclass
class Backoff:
    initial_s: float
    max_s: float

    def next(self, current: float | None) -> float:
        return self.initial_s if current is None else min(current * 2, self.max_s)


class ServerLink:
    """One MCP server: its owner task, its current client and its tools."""

    # A connection that stayed up this long counts as healthy: the next failure starts the
    # backoff from the beginning again.
    STABLE_AFTER_S = 10.0

    def __init__(
        self,
        name: str,
        target: TargetFactory,
        connect_timeout_s: float,
        backoff: Backoff,
        on_change: Callable[[], None],
    ) -> None:
        self.name = name
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


def in_memory(server: MCPServer[Any]) -> TargetFactory:
    """The built-in server, connected in memory: it can only go away with the app."""
    return lambda _lost: server


def transport_factory(config: ServerConfig) -> TargetFactory:
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
                await sink.send(clean_listing(item))
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        pass
    finally:
        lost.set()


def _describe(exc: BaseException) -> str:
    """The innermost error of a (nested) exception group, as one line."""
    while isinstance(exc, BaseExceptionGroup):
        group = cast(BaseExceptionGroup[BaseException], exc)
        exc = group.exceptions[0]
    return f"{type(exc).__name__}: {exc}"
