"""The HTTP/1.1 transport under the SDK's client: built for many long streamed replies at once.

The SDK still builds each request, authenticates, retries and turns HTTP errors into its own
exceptions; this transport only moves bytes. Each connection is an asyncio protocol whose
`data_received` feeds the bytes to httptools' C parser and queues the body, so a delta costs
one parser call and one wake-up of the reading task. The read timeout is checked lazily: a
delta only records its arrival time, and one timer per waiting connection fires when the
timeout could have passed. The aiohttp transport it replaces spent about a fifth of the
process's CPU per relayed delta at 1,000 streams (bench/results/FINDINGS.md).

Errors are httpx2's (ConnectError, ConnectTimeout, ReadTimeout, ReadError, WriteError,
RemoteProtocolError), which the SDK retries and reports as it would over httpx. Idle
connections are kept per origin and reused. HTTPS uses httpx2's SSL context (certifi, or
SSL_CERT_FILE). A proxy from the environment is not spoken here: `Claude` then keeps the SDK's
own client (`proxy_in_environment`).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import urllib.request
from collections import deque
from collections.abc import AsyncIterator
from typing import cast

import httptools
import httpx2

Origin = tuple[bytes, bytes, int]  # scheme, host, port
IDLE_PER_ORIGIN = 256  # kept-alive connections to one API host
PAUSE_AT_BYTES = 1 << 16  # stop reading from the socket while this much body waits unread


def proxy_in_environment(url: str) -> bool:
    scheme = url.split(":", 1)[0].lower()
    return scheme in urllib.request.getproxies()


class ModelTransport(httpx2.AsyncBaseTransport):
    def __init__(self) -> None:
        self._idle: dict[Origin, list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._ssl: ssl.SSLContext | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        origin = (
            request.url.raw_scheme,
            request.url.raw_host,
            request.url.port or _default_port(request.url),
        )
        connection = self._reuse(origin) or await self._connect(origin, timeouts.get("connect"))
        try:
            await connection.send(request, timeouts.get("write"))
            await connection.read_head(timeouts.get("read"))
        except BaseException:
            connection.close()
            raise
        return httpx2.Response(
            connection.status,
            headers=connection.headers,
            stream=_Body(self, origin, connection, timeouts.get("read")),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": connection.reason},
            request=request,
        )

    async def aclose(self) -> None:
        for connection in list(self._open):
            connection.close()
        self._idle.clear()

    def release(self, origin: Origin, connection: _Connection) -> None:
        """A response read to its end: keep its connection for the next request if it can be."""
        idle = self._idle.setdefault(origin, [])
        if connection.reusable and len(idle) < IDLE_PER_ORIGIN:
            connection.reset()
            idle.append(connection)
        else:
            connection.close()

    def _reuse(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.reusable:
                return connection
            connection.close()
        return None

    async def _connect(self, origin: Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        secure = scheme == b"https"
        if secure and self._ssl is None:
            self._ssl = httpx2.create_ssl_context()
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self._open),
                    host.decode("ascii"),
                    port,
                    ssl=self._ssl if secure else None,
                    server_hostname=host.decode("ascii") if secure else None,
                )
        except TimeoutError as exc:
            raise httpx2.ConnectTimeout(f"connecting to {host.decode()}:{port} timed out") from exc
        except OSError as exc:
            raise httpx2.ConnectError(f"{host.decode()}:{port}: {exc}") from exc
        return connection


class _Connection(asyncio.Protocol):
    def __init__(self, registry: set[_Connection]) -> None:
        self._registry = registry
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._writable: asyncio.Future[None] | None = None  # set while the socket is full
        self._paused = False
        self._lost = False
        self.reset()

    def reset(self) -> None:
        """Ready for the next response on this connection."""
        self._stop_watchdog()
        self._in_use = False
        self._parser = httptools.HttpResponseParser(self)
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._head_done = False
        self._complete = False
        self._keep_alive = False
        self._error: Exception | None = None
        self._last_read = self._loop.time()
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []

    @property
    def reusable(self) -> bool:
        return (
            not self._lost
            and self._transport is not None
            and not self._transport.is_closing()
            and (not self._head_done or (self._complete and self._keep_alive))
        )

    def close(self) -> None:
        self._registry.discard(self)
        self._stop_watchdog()
        if self._transport is not None:
            self._transport.close()

    # ── asyncio.Protocol ──────────────────────────────────────────────────────────────────
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._registry.add(self)
        _keep_alive(transport.get_extra_info("socket"))

    def data_received(self, data: bytes) -> None:
        if not self._in_use:  # bytes nobody asked for: this connection cannot be trusted again
            self._lost = True
            self.close()
            return
        self._last_read = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx2.RemoteProtocolError(f"invalid HTTP response: {exc}"))
            self.close()
        if self._buffered > PAUSE_AT_BYTES and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._registry.discard(self)
        self._stop_watchdog()
        if not self._complete:
            self._fail(httpx2.ReadError(f"the server closed the connection: {exc or 'EOF'}"))
        self._wake()
        self.resume_writing()

    def pause_writing(self) -> None:
        self._writable = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    # ── httptools callbacks ───────────────────────────────────────────────────────────────
    def on_status(self, status: bytes) -> None:
        self.reason = status

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        self._head_done = True

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)

    def on_message_complete(self) -> None:
        self._complete = True
        self._keep_alive = self._parser.should_keep_alive()  # only valid inside the callback
        self._stop_watchdog()

    # ── the request's side ────────────────────────────────────────────────────────────────
    async def send(self, request: httpx2.Request, timeout: float | None) -> None:
        body = await request.aread()
        head = [f"{request.method} ".encode("ascii") + request.url.raw_path + b" HTTP/1.1\r\n"]
        head += [name + b": " + value + b"\r\n" for name, value in request.headers.raw]
        if self._transport is None or self._transport.is_closing():
            raise httpx2.WriteError("the connection is closed")
        self._in_use = True
        self._transport.write(b"".join(head) + b"\r\n" + body)
        if self._writable is None:
            return
        try:
            async with asyncio.timeout(timeout):
                await self._writable
        except TimeoutError as exc:
            raise httpx2.WriteTimeout("writing the request timed out") from exc
        if self._lost:
            raise httpx2.WriteError("the connection closed while sending the request")

    async def read_head(self, timeout: float | None) -> None:
        while not self._head_done:
            await self.wait(timeout)

    async def wait(self, timeout: float | None) -> None:
        """Until more bytes arrive, the response ends or fails; ReadTimeout after `timeout`
        seconds with nothing read."""
        if self._error is not None:
            raise self._error
        self._waiter = self._loop.create_future()
        if timeout is not None and self._watchdog is None:  # armed once, not once a delta
            self._watchdog = self._loop.call_at(
                self._last_read + timeout, self._check_idle, timeout
            )
        try:
            await self._waiter
        finally:
            self._waiter = None
        if self._error is not None:
            raise self._error

    def take(self) -> bytes | None:
        """The next piece of body, or None when none is waiting."""
        if not self._chunks:
            return None
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if self._paused and self._buffered <= PAUSE_AT_BYTES // 2 and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
        return chunk

    @property
    def complete(self) -> bool:
        return self._complete

    @property
    def drained(self) -> bool:
        """The whole response arrived and all of its body was taken."""
        return self._complete and not self._chunks

    def _check_idle(self, timeout: float) -> None:
        self._watchdog = None
        if self._waiter is None:  # not waiting now: the next wait arms it again
            return
        idle_until = self._last_read + timeout
        if self._loop.time() >= idle_until:
            self._fail(httpx2.ReadTimeout(f"no data from the server for {timeout:g} s"))
            self._wake()
        else:  # data came meanwhile: look again when the timeout could have passed
            self._watchdog = self._loop.call_at(idle_until, self._check_idle, timeout)

    def _stop_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def _fail(self, error: Exception) -> None:
        if self._error is None:
            self._error = error

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class _Body(httpx2.AsyncByteStream):
    def __init__(
        self,
        transport: ModelTransport,
        origin: Origin,
        connection: _Connection,
        timeout: float | None,
    ) -> None:
        self._transport, self._origin, self._connection = transport, origin, connection
        self._timeout = timeout
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        while True:
            chunk = connection.take()
            if chunk is not None:
                yield chunk
            elif connection.complete:
                return
            else:
                await connection.wait(self._timeout)

    async def aclose(self) -> None:
        if self._released:
            return
        self._released = True
        if self._connection.drained:
            self._transport.release(self._origin, self._connection)
        else:  # read only in part (cancelled, failed): the rest would corrupt the next reply
            self._connection.close()


def _keep_alive(sock: socket.socket | None) -> None:
    """TCP keepalive as the SDK sets it on its own sockets: a long stream through a NAT or a
    load balancer is not dropped as idle, and a dead peer is noticed."""
    if sock is None:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 60), ("TCP_KEEPCNT", 5)):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


def _default_port(url: httpx2.URL) -> int:
    return 443 if url.raw_scheme == b"https" else 80
