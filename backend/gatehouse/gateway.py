"""The WebSocket endpoint: handshake checks, then a reader loop and a writer loop per socket.

The reader validates every frame and dispatches it to the session; the writer drains a bounded
outbox, so a slow client never blocks a turn. A client that falls so far behind that its outbox
fills is closed with 1013 (try again later) instead of growing the server's memory, and so is
a socket over `MAX_CONNECTIONS_PER_CLIENT` from one address.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import assert_never

import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from gatehouse import branching, metrics, protocol
from gatehouse.attachments import Upload
from gatehouse.errors import GatehouseError
from gatehouse.i18n import parse_locale
from gatehouse.model_list import ModelList
from gatehouse.rate_limit import RateLimiter, Verdict
from gatehouse.session import Session, new_session_frame
from gatehouse.sessions import Sessions
from gatehouse.settings import Locale, Settings
from gatehouse.shared_sessions import SharedSessions
from gatehouse.turn import Turns

log = structlog.get_logger(__name__)

WS_1001_GOING_AWAY = 1001
WS_1008_POLICY_VIOLATION = 1008
WS_1009_MESSAGE_TOO_BIG = 1009
WS_1011_INTERNAL_ERROR = 1011
WS_1013_TRY_AGAIN_LATER = 1013

_CLOSE = object()  # sentinel in the outbox: close the socket with `close_code`


class Connection:
    """One open socket and its bounded outbox: a list the writer takes whole and one waiter
    (the outbox is filled once per chunk, where an asyncio.Queue's bookkeeping showed in the
    profile; a list, where an idle socket's deque cost 760 bytes)."""

    def __init__(self, websocket: WebSocket, max_frames: int) -> None:
        self.websocket = websocket
        self._frames: list[str | object] = []
        self._max_frames = max_frames
        self._waiter: asyncio.Future[None] | None = None
        self.close_code: int | None = None
        self.writer: asyncio.Task[None] | None = None

    def push(self, frame: str) -> None:
        if self.close_code is not None:
            return
        if len(self._frames) >= self._max_frames:
            log.warning("slow_client_closed", queued=len(self._frames))
            self.close(WS_1013_TRY_AGAIN_LATER)
            return
        self._append(frame)

    def close(self, code: int) -> None:
        """Ask the writer to close the socket once; frames still queued are dropped."""
        if self.close_code is not None:
            return
        self.close_code = code
        self._frames.clear()
        self._append(_CLOSE)
        if code == WS_1013_TRY_AGAIN_LATER and self.writer is not None:
            self.writer.cancel()  # it is stuck on a socket the client does not read

    async def close_after_stall(self) -> None:
        """Send the close frame behind whatever the client has not read yet."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.websocket.close(code=self.close_code or 1000), 5)

    async def write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not self._frames:
                self._waiter = loop.create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
            taken, self._frames = self._frames, []
            for item in taken:
                if self.close_code is not None and item is not _CLOSE:
                    continue  # closed meanwhile: what was queued is dropped, as close() says
                if item is _CLOSE:
                    await self.websocket.close(code=self.close_code or WS_1001_GOING_AWAY)
                    return
                assert isinstance(item, str)
                await self.websocket.send_text(item)

    def _append(self, item: str | object) -> None:
        self._frames.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


@dataclass
class Gateway:
    settings: Settings
    turns: Turns
    sessions: Sessions
    models: ModelList
    connections: set[Connection] = field(default_factory=lambda: set[Connection]())
    per_client: Counter[str] = field(default_factory=lambda: Counter[str]())  # open, by address
    shared: SharedSessions | None = None  # several workers (REDIS_URL): shared_sessions.py

    async def serve(self, websocket: WebSocket) -> None:
        refusal = self._refusal(websocket)
        if refusal is not None:
            metrics.WS_REFUSED_TOTAL.labels(reason=refusal).inc()
            log.warning("websocket_refused", reason=refusal)
            await websocket.close(code=WS_1008_POLICY_VIOLATION)  # before accept: HTTP 403
            return
        client = websocket.client.host if websocket.client else ""
        self.per_client[client] += 1  # taken before any await, so a burst cannot slip past
        try:
            if self.per_client[client] > self.settings.max_connections_per_client:
                await self._refuse_over_cap(websocket)
            else:
                await self._serve_accepted(websocket)
        finally:
            self.per_client[client] -= 1
            if self.per_client[client] <= 0:
                del self.per_client[client]

    async def _refuse_over_cap(self, websocket: WebSocket) -> None:
        metrics.WS_REFUSED_TOTAL.labels(reason="too_many_connections").inc()
        log.warning("websocket_refused", reason="too_many_connections")
        # Accepted first, so the client sees the close code (before accept it is only an HTTP 403).
        with contextlib.suppress(Exception):
            await websocket.accept()
            await websocket.close(code=WS_1013_TRY_AGAIN_LATER, reason="too many connections")

    async def _serve_accepted(self, websocket: WebSocket) -> None:
        await websocket.accept()
        query = websocket.query_params
        locale = parse_locale(query.get("locale"), self.settings.default_locale)
        connection = Connection(websocket, self.settings.outbox_frames)
        session: Session | None = None
        self.connections.add(connection)
        metrics.WS_CONNECTIONS_TOTAL.inc()
        metrics.WS_CONNECTIONS_ACTIVE.inc()
        try:
            session, resumed = await self.sessions.open(query.get("session_id"), locale)
            structlog.contextvars.bind_contextvars(session_id=session.id)
            await self._attach(connection, session, resumed, query.get("last_seq"), locale)
            log.info("websocket_connected")
            await self._pump(connection, session)
        except Exception as exc:  # one socket fails, with a log line; the server goes on
            log.error("websocket_failed", error=repr(exc))
            with contextlib.suppress(Exception):
                await websocket.close(code=WS_1011_INTERNAL_ERROR)
        finally:
            self.connections.discard(connection)
            if session is not None:
                session.detach(connection)
                self.sessions.released(session)
            metrics.WS_CONNECTIONS_ACTIVE.dec()
            log.info("websocket_closed")

    async def _attach(
        self,
        connection: Connection,
        session: Session,
        resumed: bool,
        last_seq: str | None,
        locale: Locale,
    ) -> None:
        if not resumed:
            session.attach(connection)
            session.emit(new_session_frame(session))
            return
        started = time.perf_counter()
        session.locale = locale
        await session.attach_resumed(connection, last_seq)
        metrics.RESUMES_TOTAL.inc()
        metrics.RESUME_DURATION.observe(time.perf_counter() - started)

    async def going_away(self) -> None:
        """Server shutdown: stop every reply, then close every socket with 1001. With several
        workers the replies stopped here stay recorded as open: another worker takes them
        over (shared_sessions)."""
        if self.shared is not None:
            self.shared.stopping()
        await self.sessions.close_all(WS_1001_GOING_AWAY)
        for connection in list(self.connections):
            connection.close(WS_1001_GOING_AWAY)

    def _refusal(self, websocket: WebSocket) -> str | None:
        # Host and Origin were checked before the socket got here (origins.RequestGuard).
        token = self.settings.auth_token
        if token is not None:
            offered = websocket.query_params.get("token") or _bearer(websocket)
            if not hmac.compare_digest(offered.encode(), token.get_secret_value().encode()):
                return "token"
        return None

    async def _pump(self, connection: Connection, session: Session) -> None:
        """Read in this task and write in another; whichever ends first ends the other. The
        reader is not a task of its own: an idle socket costs one task less (~1 KB)."""
        this = asyncio.current_task()
        assert this is not None
        writer = asyncio.create_task(connection.write_loop())
        connection.writer = writer
        reading = True
        stopped_by_writer = False

        def writer_ended(_: asyncio.Task[None]) -> None:
            nonlocal stopped_by_writer
            if reading:  # it closed the socket, or the socket failed: stop reading
                stopped_by_writer = True
                this.cancel()

        writer.add_done_callback(writer_ended)
        try:
            await self._read_loop(connection, session)
        except asyncio.CancelledError:
            if not stopped_by_writer or this.uncancel() > 0:
                raise  # cancelled from outside (the server stops): not ours to swallow
        finally:
            reading = False
            writer.remove_done_callback(writer_ended)
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        if writer.cancelled() and connection.close_code is not None:
            await connection.close_after_stall()

    async def _read_loop(self, connection: Connection, session: Session) -> None:
        websocket = connection.websocket
        limiter = RateLimiter(self.settings.rate_limit_per_s, self.settings.rate_limit_burst)
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                verdict = limiter.check()
                if verdict != "allow":
                    if not self._refuse_flood(connection, session, verdict):
                        return
                    continue
                raw = message.get("text")
                if raw is None:
                    raw = message.get("bytes") or b""
                oversized = len(raw) > self.settings.max_frame_bytes
                if not await self._handle(session, raw, oversized=oversized):
                    connection.close(WS_1009_MESSAGE_TOO_BIG)
                    return
        except WebSocketDisconnect:
            return

    def _refuse_flood(self, connection: Connection, session: Session, verdict: Verdict) -> bool:
        """Refuse a frame over the rate limit; False when the client is disconnected."""
        metrics.INVALID_FRAMES_TOTAL.labels(error="rate_limited").inc()
        if verdict == "disconnect":
            log.warning("flooding_client_closed")
            connection.close(WS_1008_POLICY_VIOLATION)
            return False
        if verdict == "refuse_and_tell":
            session.emit_error(GatehouseError("too_many_messages"))
        return True

    async def _handle(self, session: Session, raw: str | bytes, *, oversized: bool = False) -> bool:
        """Act on one frame; False when it is over `MAX_FRAME_BYTES` without being a message
        with attachments (the socket is closed with 1009, as for any frame too large)."""
        try:
            frame = protocol.parse_client_frame(raw)
        except protocol.FrameRejected as rejected:
            if oversized:
                return False
            metrics.INVALID_FRAMES_TOTAL.labels(error=rejected.reason).inc()
            log.info("frame_rejected", reason=rejected.reason, errors=rejected.errors)
            session.emit_error(GatehouseError(rejected.reason), errors=rejected.errors)
            return True
        if oversized and not (isinstance(frame, protocol.UserMessage) and frame.data.attachments):
            return False
        shared = self.shared
        if shared is None:
            await self._dispatch(session, frame)
        elif isinstance(frame, protocol.ToolApproval | protocol.Cancel):
            if not await shared.route(session, frame):  # owned here, or by nobody
                await self._dispatch(session, frame)
        elif await shared.claim(session):  # a frame that changes the conversation
            try:
                await self._dispatch(session, frame)
            finally:
                await shared.settle(session)
        return True

    async def _dispatch(self, session: Session, frame: protocol.ClientFrame) -> None:
        match frame:
            case protocol.UserMessage(data=data):
                uploads = [Upload(a.name, a.data) for a in data.attachments or []]
                self.turns.reply(session, data.text, uploads)
            case protocol.ToolApproval(data=data):
                if refusal := session.decide(data):
                    log.warning(
                        "tool_approval_refused", tool_use_id=data.tool_use_id, code=refusal.code
                    )
                    session.emit_error(
                        GatehouseError(refusal.code),
                        tool_use_id=data.tool_use_id,
                        errors=refusal.errors,
                    )
            case protocol.Cancel():
                session.cancel_turn()
            case protocol.Continue():
                self.turns.continue_reply(session)
            case protocol.Configure(data=data):
                # Awaited here, so a message sent right after it gets the new settings.
                await self._configure(session, data)
            case protocol.Retry():
                await branching.retry(self.turns, session)
            case protocol.EditMessage(data=data):
                await branching.edit(self.turns, session, data.message_id, data.text)
            case protocol.SwitchBranch(data=data):
                await branching.switch(session, data.message_id)
            case _:
                assert_never(frame)

    async def _configure(self, session: Session, data: protocol.ConfigureData) -> None:
        if data.model is not None and not await self.models.offers(data.model):
            log.info("unknown_model_refused", model=data.model[:80])
            session.emit_error(GatehouseError("unknown_model"))
            return
        await session.configure(data.model, data.thinking)


def _bearer(websocket: WebSocket) -> str:
    header = websocket.headers.get("authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
