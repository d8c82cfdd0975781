"""Sessions shared by several worker processes through Redis (REDIS_URL; issue 17).

Without REDIS_URL none of this runs: one process holds every live conversation, as always.
With it, any worker may receive any socket of any conversation:

- Ownership. Each process has a worker id. A frame that changes a conversation (a message,
  continue, retry, edit, branch switch, settings) first takes the conversation's turn lease
  (turn_lease); when another worker holds it, the person gets the usual `busy` error. A
  `Renewer` keeps the lease while the turn runs; it is released once the turn's frames are
  in the store (`Store.flush`). A lost lease is taken back when it is free; when another
  worker holds it, this worker stops its turn and writes nothing more.
- Frames. The owner publishes every numbered frame on the conversation's Redis Stream
  (frame_bus). Every other worker with a socket of the conversation follows it (`_follow`):
  the frames go to its sockets in order, each once; a gap (trimmed stream, Redis restarted)
  is filled from the store's frame log, and after each completed reply (or a new history or
  settings) the stored state is read again, so the follower can own the next turn.
- Control. An approval or a cancel received by a follower is sent to the owner (control_bus);
  when nobody received it and the owner changed meanwhile, it is sent once more. When the
  owner holds the lease but hears nothing (it died), the decision waits for its lease to end
  and for the takeover, then applies; only when the owner outlives that wait does the person
  get `owner_unreachable`. The owner's answer (a refusal too) comes back as frames on the
  stream. A rule added or revoked is broadcast: every worker reloads its rules.
- Takeover. A running turn is recorded in a Redis hash (`OPEN_TURNS`). Every worker looks at
  it eight times a lease, and again just after the first lease of another worker is due to
  end; every entry whose lease has ended (its worker died) is taken over, each in a task of
  its own (the record checked and the lease taken in one step: `TurnLeases.acquire_open`),
  and recovered as a restart recovers it: a pending approval is asked again (the
  frame was sent once: clients have it) and still works, a tool that was running is reported
  interrupted, and a reply cut mid-stream keeps its text, marked stopped, with a
  `stream_interrupted` error.
- Frame log. No worker knows when the others are done with a conversation's frames, so the
  ended turns' frames are dropped once it was left alone for FRAME_RETENTION_S (frame_janitor);
  a follower that loaded it earlier asks the store before it replays to a resuming client.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections import deque
from typing import TYPE_CHECKING, Any

import orjson
import structlog
from redis.asyncio import Redis

from gatehouse import protocol
from gatehouse.control_bus import (
    ApprovalDecision,
    Cancel,
    ControlBus,
    ControlListener,
    ControlMessage,
    ConversationDeleted,
    RulesChanged,
)
from gatehouse.errors import GatehouseError
from gatehouse.frame_bus import (
    CONNECTION_ERRORS,
    Frame,
    FrameBus,
    FrameReader,
    Gap,
    stream_key,
)
from gatehouse.frame_janitor import FrameJanitor
from gatehouse.history_repair import repair_stored
from gatehouse.policy import Policy
from gatehouse.protocol import ToolApprovalData
from gatehouse.session import Session
from gatehouse.store import Store, StoredConversation, StoredToolCall
from gatehouse.tool_call import OPEN
from gatehouse.turn_lease import Renewer, TurnLeases

if TYPE_CHECKING:
    from gatehouse.sessions import Sessions

log = structlog.get_logger(__name__)

OPEN_TURNS = "gatehouse:open-turns"  # conversation → {"owner", "start"} of a running turn
BROADCAST = "all"  # the control channel every worker listens on (rule changes)
FILL_DEADLINE_S = 5.0  # a gap waits this long for the owner's frames to reach the store
FILL_POLL_S = 0.05
SCANS_PER_LEASE = 8  # a scan at least this often per lease time
# The next scan comes this long after the first lease of another worker is due to end: a
# dead worker's turns are taken as their leases end, not up to a scan interval later.
EXPIRY_MARGIN_S = 0.005
BATCH = 512  # frames published in one round trip
# A woken publisher waits this long for more frames to go in the same round trip: with few
# replies each batch would otherwise carry one frame, and the round trip costs the worker
# ~130 µs of CPU whatever it carries. Readers on other workers see frames this much later.
PUBLISH_WINDOW_S = 0.02
DRAIN_DEADLINE_S = 2.0  # a release waits this long for its frames to be published
RELEASE_WAIT_S = 2.0  # a claim right after a reply ended elsewhere waits this long for it
# Frames after which a follower reads the stored state again.
RELOAD_AFTER = frozenset({"assistant_message_completed", "history", "conversation_settings"})


def worker_id() -> str:
    """Unique per process start: a restarted worker is a new owner."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def event_of(frame: str) -> str:
    """The event name of a frame this app encoded (`{"event":"<name>",...`)."""
    if frame.startswith('{"event":"'):
        end = frame.find('"', 10)
        if end > 0:
            return frame[10:end]
    try:
        return str(orjson.loads(frame).get("event", ""))
    except orjson.JSONDecodeError:
        return ""


class _Publisher:
    """Publishes the owner's frames in the order they were sent, off the turn's path: what
    piled up while one batch was on its way goes in the next (one round trip each)."""

    def __init__(self, frames: FrameBus) -> None:
        self._frames = frames
        self._queue: deque[tuple[str, int, str]] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._down = False
        self._task = asyncio.create_task(self._run(), name="frame-publisher")

    def push(self, conversation: str, seq: int, frame: str) -> None:
        self._queue.append((conversation, seq, frame))
        self._idle.clear()
        self._wake.set()

    async def drained(self, timeout_s: float = DRAIN_DEADLINE_S) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout_s)

    async def close(self) -> None:
        await self.drained()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if len(self._queue) < BATCH:
                await asyncio.sleep(PUBLISH_WINDOW_S)
            self._wake.clear()
            while self._queue:
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), BATCH))]
                try:
                    refused = await self._frames.publish_batch(batch)
                    if self._down:
                        self._down = False
                        log.info("frame_publish_resumed")
                    for line in refused:  # readers fill these from the store
                        log.warning("frame_not_published", error=line)
                except CONNECTION_ERRORS as exc:  # the frame log has them; readers see a gap
                    if not self._down:
                        self._down = True
                        log.warning("frame_publish_failed", error=repr(exc))
                except Exception:
                    log.exception("frame_publish_error", frames=len(batch))
            self._idle.set()


class SharedSessions:
    def __init__(
        self,
        redis: Redis,
        store: Store,
        policy: Policy,
        *,
        lease_ms: int,
        frame_retention_s: float,
        worker: str = "",
    ) -> None:
        self.redis = redis
        self.worker = worker or worker_id()
        self.frames = FrameBus(redis)
        self.control = ControlBus(redis)
        self.leases = TurnLeases(redis, lease_ms=lease_ms)
        self._store = store
        self._policy = policy
        self._sessions: Sessions | None = None
        self._renewers: dict[str, Renewer] = {}
        self._followers: dict[str, asyncio.Task[None]] = {}
        self._readers: dict[str, FrameReader] = {}
        self._busy_told: set[str] = set()  # followers that told a socket `busy`
        self._listeners: list[ControlListener] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._scanner: asyncio.Task[None] | None = None
        self._publisher: _Publisher | None = None
        self._recovering: set[str] = set()
        self._taking: dict[str, asyncio.Task[None]] = {}  # takeovers under way
        self._claiming: dict[str, asyncio.Lock] = {}
        self._ended: dict[str, bool] = {}  # the last frame followed was a reply's end
        self._stopping = False
        self._janitor = FrameJanitor(store, self._open_turns, frame_retention_s)

    # ── life cycle ──────────────────────────────────────────────────────────────────────────
    async def start(self, sessions: Sessions) -> None:
        self._sessions = sessions
        self._publisher = _Publisher(self.frames)
        self._policy.on_stored_change = self._announce_rules
        self._listeners = [
            await self.control.listen(self.worker, self._on_control),
            await self.control.listen(BROADCAST, self._on_control),
        ]
        self._scanner = asyncio.create_task(self._scan(), name="open-turns-scanner")
        self._janitor.start()
        log.info("shared_sessions_started", worker=self.worker, lease_ms=self.leases.lease_ms)

    def stopping(self) -> None:
        """The worker is stopping: the turns it stops now are not released as ended."""
        self._stopping = True

    async def stop(self) -> None:
        """After the sessions were closed: their leases go back (a turn left open is recorded
        still, so another worker takes it over at once), followers and listeners end."""
        self._stopping = True
        if self._scanner is not None:
            self._scanner.cancel()
            await asyncio.gather(self._scanner, return_exceptions=True)
        await self._janitor.stop()
        for conversation in list(self._renewers):
            renewer = self._renewers.pop(conversation)
            await renewer.stop()
            with contextlib.suppress(*CONNECTION_ERRORS):
                await self.leases.release(conversation, self.worker)
        await self.leases.close()
        for conversation in list(self._followers):
            await self._stop_following(conversation)
        for listener in self._listeners:
            await listener.stop()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._publisher is not None:
            await self._publisher.close()
        await self.redis.aclose()

    def _spawn(self, coroutine: Any, name: str) -> None:
        task = asyncio.ensure_future(coroutine)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("shared_task_failed", task=task.get_name(), error=repr(task.exception()))

    # ── sessions coming and going (Sessions) ────────────────────────────────────────────────
    def registered(self, session: Session) -> None:
        """A session became live on this worker: it follows until it owns a turn."""
        session.on_turn_start = self._turn_started
        session.on_turn_end = self._turn_ended
        session.on_behind = self._behind
        if session.stored:
            session.following = True
            self._start_following(session)
            log.info("session_following", session_id=session.id, seq=session.seq)

    async def adopt_loaded(self, session: Session, calls: list[StoredToolCall]) -> None:
        """A stored conversation just loaded. Left with a reply open (a round of calls, or
        recorded as running) and held by nobody, its worker stopped: it is recovered now.
        Running on another worker, it follows from that turn's start."""
        try:
            raw: Any = await self.redis.hget(OPEN_TURNS, session.id)  # pyright: ignore[reportUnknownMemberType]
            if raw is not None:
                taken = await self.leases.acquire_open(session.id, self.worker, OPEN_TURNS)
            else:  # its calls are open, but its turn was never recorded (the owner died first)
                calls_open = any(call.status in OPEN for call in calls)
                taken = (
                    calls_open
                    and await self.leases.owner(session.id) is None
                    and await self.leases.acquire(session.id, self.worker)
                )
            if taken:
                await self._recover(session)
                return
            if raw is not None:
                session.following_turn(int(orjson.loads(raw).get("start", 0)))
        except CONNECTION_ERRORS as exc:
            log.warning("recovery_check_failed", session_id=session.id, error=repr(exc))

    def dropped(self, session: Session) -> None:
        """The session left this worker's memory."""
        lock = self._claiming.get(session.id)
        if lock is not None and not lock.locked():
            del self._claiming[session.id]
        self._ended.pop(session.id, None)
        self._spawn(self._stop_following(session.id), f"unfollow:{session.id}")

    # ── ownership ───────────────────────────────────────────────────────────────────────────
    def owns(self, session: Session) -> bool:
        """This worker holds the conversation's lease."""
        return session.id in self._renewers

    async def claim(self, session: Session) -> bool:
        """Own the conversation before changing it; False (the person is told `busy`) when
        another worker owns it."""
        async with self._lock(session.id):
            return await self._claim(session)

    def _lock(self, conversation: str) -> asyncio.Lock:
        """Claims and releases of one conversation, one at a time."""
        return self._claiming.setdefault(conversation, asyncio.Lock())

    async def _claim(self, session: Session) -> bool:
        if self.owns(session):
            return True
        try:
            taken = await self.leases.acquire(session.id, self.worker)
            # The reply just ended on its owner, which lets go once its frames are stored.
            deadline = asyncio.get_running_loop().time() + RELEASE_WAIT_S
            while not taken and self._ended.get(session.id) and session.following:
                if asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(FILL_POLL_S)
                taken = await self.leases.acquire(session.id, self.worker)
        except CONNECTION_ERRORS as exc:
            log.warning("lease_unavailable", session_id=session.id, error=repr(exc))
            session.emit_error(GatehouseError("owner_unreachable"))
            return False
        log.info("lease_claimed" if taken else "lease_busy", session_id=session.id)
        if not taken:
            self._busy_told.add(session.id)
            session.emit_status(busy=True)
            session.emit_error(GatehouseError("busy"))
            return False
        await self._become_owner(session)
        return True

    async def settle(self, session: Session) -> None:
        """After a changing frame was handled: give the lease back unless a turn runs."""
        if self.owns(session) and not session.replying:
            await self._release(session)

    async def _become_owner(self, session: Session) -> StoredConversation | None:
        """With the lease held: stop following, catch up with the store (and the stream, for
        frames a dead owner published but never stored), read the stored state, then own.
        Returns the stored state it read (None for a conversation not stored yet)."""
        await self._stop_following(session.id)
        stored: StoredConversation | None = None
        if session.stored:
            stored = await self._store.load_conversation(session.id)
            stored_last = stored.last_seq if stored is not None else 0
            last = max(stored_last, await self._copy_stream_to_store(session.id, stored_last))
            if last > session.seq:  # frames this worker has not seen (a follower has them all)
                for seq, frame in await self._store.frames_after(session.id, session.seq):
                    session.mirror(seq, frame)
            session.numbered_from(last)
            if stored is not None:
                session.take_stored(repair_stored(stored))
        session.following = False
        session.writable = True
        assert self._publisher is not None
        session.publish = self._publisher.push
        self._keep_lease(session)
        return stored

    def _keep_lease(self, session: Session) -> None:
        old = self._renewers.pop(session.id, None)
        if old is not None:
            self._spawn(old.stop(), f"renewer-stop:{session.id}")
        self._renewers[session.id] = self.leases.renewer(
            session.id, self.worker, on_lost=lambda: self._lease_lost(session)
        )

    async def _release(self, session: Session) -> None:
        async with self._lock(session.id):
            await self._release_held(session)

    async def _release_held(self, session: Session) -> None:
        if not self.owns(session):
            return
        conversation = session.id
        await self._store.flush(conversation)
        if self._publisher is not None:
            await self._publisher.drained()
        if session.replying or not self.owns(session):
            return  # a new turn began meanwhile: it keeps the lease
        session.following = True
        session.publish = None
        renewer = self._renewers.pop(conversation, None)
        if renewer is not None:
            await renewer.stop()
        try:
            await self.redis.hdel(OPEN_TURNS, conversation)  # pyright: ignore[reportUnknownMemberType]
            await self.leases.release(conversation, self.worker)
            log.info("lease_released", session_id=conversation, seq=session.seq)
        except CONNECTION_ERRORS as exc:  # the lease runs out by itself
            log.warning("lease_release_failed", session_id=conversation, error=repr(exc))
        if self._sessions is not None and self._sessions.is_live(session) and not self._stopping:
            self._start_following(session)

    def _turn_started(self, session: Session) -> None:
        if not self.owns(session):
            return
        record = orjson.dumps({"owner": self.worker, "start": session.turn_start_seq}).decode()
        self._spawn(self._record_turn(session.id, record), f"record-turn:{session.id}")

    async def _record_turn(self, conversation: str, record: str) -> None:
        try:
            await self.redis.hset(OPEN_TURNS, conversation, record)  # pyright: ignore[reportUnknownMemberType]
        except CONNECTION_ERRORS as exc:
            log.warning("open_turn_not_recorded", session_id=conversation, error=repr(exc))

    def _turn_ended(self, session: Session) -> None:
        if self.owns(session) and not self._stopping:
            self._spawn(self._release(session), f"release:{session.id}")

    def _behind(self, session: Session, seq: int) -> None:
        """A client resuming here has seen frames up to `seq`: fetch them from the store."""
        if session.following:
            self._spawn(self._fill(session, seq + 1), f"catch-up:{session.id}")

    def _lease_lost(self, session: Session) -> None:
        self._spawn(self._take_back(session), f"take-back:{session.id}")

    async def _take_back(self, session: Session) -> None:
        """The lease was lost (a stall, Redis restarted): take it back when it is free; when
        another worker holds it, stop the turn and write nothing more."""
        delay = 0.05
        while self.owns(session) and not self._stopping:
            try:
                taken = await self.leases.acquire(session.id, self.worker)
            except CONNECTION_ERRORS:
                await asyncio.sleep(delay)  # Redis is down: nobody else can take it either
                delay = min(delay * 2, 1.0)
                continue
            if taken:
                log.info("lease_taken_back", session_id=session.id)
                self._keep_lease(session)
                if session.replying:
                    start = session.turn_start_seq
                    record = orjson.dumps({"owner": self.worker, "start": start}).decode()
                    await self._record_turn(session.id, record)
                return
            break
        if not self.owns(session):
            return
        log.warning("turn_stopped_lease_lost", session_id=session.id)
        session.following = True
        session.writable = False
        session.publish = None
        self._renewers.pop(session.id, None)
        await session.stop_turn()
        if self._sessions is not None and self._sessions.is_live(session):
            self._start_following(session)

    # ── following another worker ────────────────────────────────────────────────────────────
    def _start_following(self, session: Session) -> None:
        if session.id in self._followers or self._stopping:
            return
        # The reader exists before the task runs, so stopping at once always finds it.
        reader = self.frames.reader(session.id, session.seq)
        self._readers[session.id] = reader
        task = asyncio.create_task(self._follow(session, reader), name=f"follow:{session.id}")
        self._followers[session.id] = task

    async def _stop_following(self, conversation: str) -> None:
        task = self._followers.pop(conversation, None)
        reader = self._readers.pop(conversation, None)
        if reader is not None:
            reader.close()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def _follow(self, session: Session, reader: FrameReader) -> None:
        try:
            async for item in reader:
                if isinstance(item, Gap):
                    await self._fill(session, item.before)
                    reader.advance(session.seq)
                    continue
                await self._follow_frame(session, item)
        except Exception:
            log.exception("follower_failed", session_id=session.id)
        finally:
            await reader.aclose()

    async def _follow_frame(self, session: Session, item: Frame) -> None:
        if item.seq <= session.seq:
            return  # had it already (this worker sent it, or the store gave it)
        if item.seq > session.seq + 1:
            await self._fill(session, item.seq)
            if item.seq <= session.seq:
                return
        await self._forward(session, item.seq, item.text)

    async def _forward(self, session: Session, seq: int, frame: str) -> None:
        session.mirror(seq, frame)
        event = event_of(frame)
        self._ended[session.id] = event == "assistant_message_completed"
        if event in RELOAD_AFTER and session.following:
            stored = await self._store.load_conversation(session.id)
            if stored is not None and session.following:
                session.take_stored(repair_stored(stored))
            if event == "assistant_message_completed" and session.id in self._busy_told:
                self._busy_told.discard(session.id)
                session.emit_status(busy=False)

    async def _fill(self, session: Session, before: int | None) -> None:
        """The frames after the session's seq (up to `before`) from the store's frame log; the
        owner writes them a moment after it publishes them, so a known gap waits for them."""
        deadline = asyncio.get_running_loop().time() + FILL_DEADLINE_S
        while True:
            for seq, frame in await self._store.frames_after(session.id, session.seq):
                if (before is not None and seq >= before) or seq != session.seq + 1:
                    break
                await self._forward(session, seq, frame)
            if before is None or session.seq >= before - 1:
                return
            if asyncio.get_running_loop().time() > deadline:
                log.error("frames_missing", session_id=session.id, after=session.seq, before=before)
                return
            await asyncio.sleep(FILL_POLL_S)  # the owner's frame log is written in batches

    async def _copy_stream_to_store(self, conversation: str, stored_last: int) -> int:
        """Frames on the stream that the store lacks (their owner died before writing them)
        go into the frame log; the stream's last seq."""
        key = stream_key(conversation)
        entries: Any = await self.redis.xrange(key, min=f"{stored_last + 1}-0")  # pyright: ignore[reportUnknownMemberType]
        last = stored_last
        for _entry_id, fields in entries:
            seq = int(fields.get("seq", 0))
            frame = fields.get("frame")
            if seq == last + 1 and isinstance(frame, str):
                self._store.log_frame(conversation, seq, frame)
                last = seq
        if last > stored_last:
            log.info("frames_copied_from_stream", session_id=conversation, count=last - stored_last)
            await self._store.flush(conversation)
        tail: Any = await self.redis.xrevrange(key, count=1)  # pyright: ignore[reportUnknownMemberType]
        return max(last, int(str(tail[0][0]).split("-", 1)[0]) if tail else 0)

    # ── approvals and cancel received by a follower ─────────────────────────────────────────
    async def route(self, session: Session, frame: protocol.ToolApproval | protocol.Cancel) -> bool:
        """Send an approval or a cancel to the worker that owns the conversation; False when
        this worker should handle it itself (it owns it, or nobody does)."""
        async with self._lock(session.id):  # a recovery under way ends first
            pass
        if not session.following:
            return False
        if isinstance(frame, protocol.ToolApproval):
            data = frame.data
            message: ControlMessage = ApprovalDecision(
                conversation=session.id,
                tool_use_id=data.tool_use_id,
                approved=data.approved,
                answer=data.model_dump_json(),
            )
            tool_use_id: str | None = data.tool_use_id
        else:
            message = Cancel(conversation=session.id)
            tool_use_id = None
        try:
            outcome = await self._deliver(session.id, message)
            if outcome is False or isinstance(outcome, str):
                # Nobody owns the turn, or its owner hears nothing (it died, or Redis cut it
                # off) and its lease ends within a lease time. Either way the turn is taken
                # over (here, unless another worker has it) and the call asked again; the
                # decision waits for that instead of asking the person to send it again.
                if isinstance(outcome, str):
                    await self._outlast(session.id, outcome)
                await self._take_over_now(session.id)
                if not session.following or outcome is False:
                    return False  # owned here now, or by nobody: handled here
                outcome = await self._deliver(session.id, message)
            if not isinstance(outcome, str):
                return outcome
        except CONNECTION_ERRORS as exc:
            log.warning("control_send_failed", session_id=session.id, error=repr(exc))
        log.warning("owner_unreachable", session_id=session.id, kind=message.kind)
        session.emit_error(GatehouseError("owner_unreachable"), tool_use_id=tool_use_id)
        return True

    async def _deliver(self, conversation: str, message: ControlMessage) -> bool | str:
        """True: the owner received `message`; False: no other worker holds the lease; a
        worker id: that worker holds it but did not receive the message."""
        tried: str | None = None
        for _attempt in range(2):  # once more if the owner changed meanwhile
            owner = await self.leases.owner(conversation)
            if owner is None or owner == self.worker:
                return False
            if owner == tried:
                break
            if await self.control.send(owner, message):
                return True
            tried = owner
        assert tried is not None
        return tried

    async def _outlast(self, conversation: str, owner: str) -> None:
        """Wait while `owner` holds the conversation's lease, at most a lease time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.leases.lease_ms / 1000 + EXPIRY_MARGIN_S
        while True:
            [(holder, left_ms)] = await self.leases.holders([conversation])
            wait_s = min(left_ms / 1000 + EXPIRY_MARGIN_S, deadline - loop.time())
            if holder != owner or wait_s <= 0:
                return
            await asyncio.sleep(wait_s)  # the lease's own end: there is no event to await

    async def announce_deleted(self, conversation: str) -> None:
        """Tell every worker the conversation was deleted (`_on_control` closes its sockets
        there). Its open-turn record goes too: nobody is to take over a deleted turn."""
        try:
            await self.redis.hdel(OPEN_TURNS, conversation)  # pyright: ignore[reportUnknownMemberType]
            await self.control.send(BROADCAST, ConversationDeleted(conversation=conversation))
        except CONNECTION_ERRORS as exc:
            log.warning("delete_not_announced", session_id=conversation, error=repr(exc))

    async def _on_control(self, message: ControlMessage) -> None:
        if isinstance(message, RulesChanged):
            await self._policy.reload()
            return
        if isinstance(message, ConversationDeleted):
            if self._sessions is not None and await self._sessions.forget_deleted(
                message.conversation
            ):
                log.info("deleted_elsewhere_closed", session_id=message.conversation)
            return
        session = self._sessions.find(message.conversation) if self._sessions else None
        if session is None or not self.owns(session):
            log.warning("control_for_unowned", session_id=message.conversation, kind=message.kind)
            return
        if isinstance(message, Cancel):
            session.cancel_turn()
            return
        try:
            data = (
                ToolApprovalData.model_validate_json(message.answer)
                if message.answer is not None
                else ToolApprovalData(tool_use_id=message.tool_use_id, approved=message.approved)
            )
        except ValueError:
            log.warning("control_approval_invalid", session_id=session.id)
            return
        if refusal := session.decide(data):
            log.warning("tool_approval_refused", tool_use_id=data.tool_use_id, code=refusal.code)
            session.emit_error(
                GatehouseError(refusal.code), tool_use_id=data.tool_use_id, errors=refusal.errors
            )

    def _announce_rules(self) -> None:
        self._spawn(self._broadcast_rules(), "rules-broadcast")

    async def _broadcast_rules(self) -> None:
        try:
            await self.control.send(BROADCAST, RulesChanged(conversation="*"))
        except CONNECTION_ERRORS as exc:
            log.warning("rules_broadcast_failed", error=repr(exc))

    # ── taking over the turns of a worker that died ─────────────────────────────────────────
    async def _scan(self) -> None:
        interval_s = self.leases.lease_ms / SCANS_PER_LEASE / 1000
        wait_s = interval_s
        while True:
            await asyncio.sleep(wait_s)
            wait_s = interval_s
            try:
                next_end_s = await self._scan_once()
            except CONNECTION_ERRORS as exc:
                log.warning("open_turns_scan_failed", error=repr(exc))
            except Exception:
                log.exception("open_turns_scan_error")
            else:
                if next_end_s is not None:
                    wait_s = min(interval_s, next_end_s + EXPIRY_MARGIN_S)

    async def _scan_once(self) -> float | None:
        """Take over every open turn whose lease nobody holds; returns the seconds until the
        first lease held by another worker is due to end (None when there is none)."""
        records: Any = await self.redis.hgetall(OPEN_TURNS)  # pyright: ignore[reportUnknownMemberType]
        skip = (self._renewers, self._recovering, self._taking)
        candidates = [c for c in records if not any(c in ours for ours in skip)]
        # One round trip for every lease (each open turn of every other worker, every scan).
        holders = await self.leases.holders(candidates)
        for conversation, (owner, _ms) in zip(candidates, holders, strict=True):
            if owner is None:
                # Not awaited: a lease that ends a moment later is taken at the next scan,
                # not after the takeovers under way.
                self._start_takeover(conversation)
        left = [ms for owner, ms in holders if owner is not None and owner != self.worker]
        return min(left) / 1000 if left else None

    async def _open_turns(self) -> set[str]:
        conversations: Any = await self.redis.hkeys(OPEN_TURNS)  # pyright: ignore[reportUnknownMemberType]
        return set(conversations)

    def _start_takeover(self, conversation: str) -> asyncio.Task[None]:
        task = asyncio.ensure_future(self._take_over_logged(conversation))
        task.set_name(f"takeover:{conversation}")
        self._taking[conversation] = task
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    async def _take_over_now(self, conversation: str) -> None:
        """Take the conversation's open turn over here, when nobody holds its lease, or wait
        for the takeover already under way here."""
        task = self._taking.get(conversation) or self._start_takeover(conversation)
        await asyncio.shield(task)  # a caller that goes does not stop the takeover

    async def _take_over_logged(self, conversation: str) -> None:
        try:
            await self._take_over(conversation)
        except Exception as exc:
            log.error("turn_takeover_failed", session_id=conversation, error=repr(exc))
        finally:
            self._taking.pop(conversation, None)

    async def _take_over(self, conversation: str) -> None:
        """The conversation's open turn, when nobody holds its lease: take it and recover it."""
        if not await self.leases.acquire_open(conversation, self.worker, OPEN_TURNS):
            return  # taken by another worker, or the turn ended as the scan looked
        assert self._sessions is not None
        session = await self._sessions.for_takeover(conversation)
        if session is None:  # deleted meanwhile
            await self.redis.hdel(OPEN_TURNS, conversation)  # pyright: ignore[reportUnknownMemberType]
            await self.leases.release(conversation, self.worker)
            return
        if await self._recover(session):
            log.info("turn_taken_over", session_id=conversation)
            self._sessions.released(session)  # nobody here: it leaves memory after the grace

    async def _recover(self, session: Session) -> bool:
        """With the lease held: finish what the conversation's last owner left. False when
        this worker owns the conversation already: a message claimed it since the lease was
        looked at (acquiring a lease this worker holds answers yes), and its turn runs here;
        recovering it would number its frames again from the store's."""
        assert self._sessions is not None
        self._recovering.add(session.id)
        try:
            async with self._lock(session.id):  # frames for it wait until it is recovered
                if self.owns(session):
                    log.info("takeover_skipped_owned_here", session_id=session.id)
                    return False
                await self._recover_held(session)
                return True
        finally:
            self._recovering.discard(session.id)

    async def _recover_held(self, session: Session) -> None:
        assert self._sessions is not None
        raw: Any = await self.redis.hget(OPEN_TURNS, session.id)  # pyright: ignore[reportUnknownMemberType]
        # Read as it became owner (a dead owner writes nothing more), or now if it was not.
        stored = await self._become_owner(session) or await self._store.load_conversation(
            session.id
        )
        calls = stored.tool_calls if stored is not None else []
        if self._sessions.resume_turn(session, calls):
            log.info("turn_resumed_after_takeover", session_id=session.id)
            return
        start = int(orjson.loads(raw).get("start", 0)) if raw else None
        if start is not None:
            await self._finish_cut(session, start)
        await self._release_held(session)

    async def _finish_cut(self, session: Session, start: int) -> None:
        """The turn died mid-reply: keep the text streamed so far (marked stopped) and end the
        reply with `stream_interrupted`, as a stream cut by the network ends."""
        frames = await self._store.frames_after(session.id, start)
        if frames and event_of(frames[-1][1]) == "assistant_message_completed":
            return  # it ended; only its release was lost
        texts: list[str] = []
        for _seq, frame in frames:
            event = event_of(frame)
            if event == "ai_chunk":
                texts.append(str(orjson.loads(frame)["data"]["text"]))
            elif event == "status_update" and orjson.loads(frame)["data"].get("ai_typing"):
                texts = []  # a new request to Claude: the text before it is stored
        partial = "".join(texts)
        history = session.history
        if partial and (not history or history[-1]["role"] == "user"):
            message = {"role": "assistant", "content": [{"type": "text", "text": partial}]}
            await session.add_message(message, stopped=True)
        log.warning("reply_cut_by_worker_loss", session_id=session.id, kept=len(partial))
        session.emit_error(GatehouseError("stream_interrupted"))
        session.flag_error()
        session.emit_status(ai_typing=False)
        data = protocol.AssistantMessageCompletedData(reason="error", ids=session.reply_ids())
        session.emit(protocol.AssistantMessageCompleted(data=data))
