"""Control messages for the worker that owns a conversation's turn: an approval decision, a
cancel, a change of rules. Any worker may receive them from a socket; the owner acts on them.

Each worker listens on its own pub/sub channel (`gatehouse:control:<worker id>`); `send`
publishes one message there. Pub/sub delivers at most once, to whoever listens at that moment:
`send` returns whether a listener received it, so the sender can look the owner up again
(turn_lease) and retry, or tell the person. Messages are JSON, validated on receipt against
the models below: anything else (garbled, too large, unknown kind) is logged and dropped, and
the listener carries on. A callback that raises is logged too, never the listener's end.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal, cast

import structlog
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gatehouse.redis_client import reader_client

log = structlog.get_logger(__name__)

CHANNEL_PREFIX = "gatehouse:control:"
MAX_MESSAGE_BYTES = 64 * 1024
MAX_ID_CHARS = 256
HEARTBEAT_S = 5.0  # a quiet listener wakes this often, so a dead connection is found
RECONNECT_DELAYS_S = (0.05, 0.1, 0.2, 0.5, 1.0)
CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)

Id = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    conversation: Id


class ApprovalDecision(_Message):
    """A person approved or denied a pending call (`tool_approval`) on some worker."""

    kind: Literal["approval"] = "approval"
    tool_use_id: Id
    approved: bool
    # the whole `tool_approval` data as JSON (scope, reason, edited input), checked by the owner
    answer: Annotated[str, Field(max_length=MAX_MESSAGE_BYTES // 2)] | None = None


class Cancel(_Message):
    """A person asked to stop the reply (`cancel`)."""

    kind: Literal["cancel"] = "cancel"


class RulesChanged(_Message):
    """The conversation's approval rules changed: the owner reloads them before the next call."""

    kind: Literal["rules_changed"] = "rules_changed"


class ConversationDeleted(_Message):
    """The conversation was deleted on some worker: every other one closes its sockets of it
    and forgets it (a turn it runs stops)."""

    kind: Literal["deleted"] = "deleted"


ControlMessage = Annotated[
    ApprovalDecision | Cancel | RulesChanged | ConversationDeleted, Field(discriminator="kind")
]
_adapter: TypeAdapter[ControlMessage] = TypeAdapter(ControlMessage)

Callback = Callable[[ControlMessage], Awaitable[None] | None]


class MessageTooLarge(ValueError):
    pass


def channel(worker: str) -> str:
    if not worker or len(worker) > MAX_ID_CHARS:
        raise ValueError("a worker id is 1 to 256 characters")
    return CHANNEL_PREFIX + worker


def encode(message: ControlMessage) -> str:
    text = message.model_dump_json()
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"a control message is at most {MAX_MESSAGE_BYTES} bytes")
    return text


def decode(raw: str | bytes) -> ControlMessage:
    """The message in `raw`; raises ValueError for anything that is not a valid one."""
    if len(raw) > MAX_MESSAGE_BYTES:  # characters ≤ bytes: a cheap first bound
        raise MessageTooLarge("control message too large")
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageTooLarge("control message too large")
    return _adapter.validate_json(data)


class ControlBus:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def send(self, worker: str, message: ControlMessage) -> bool:
        """Publish `message` to `worker`; True when a listener of it received the message."""
        receivers: int = await self._redis.publish(channel(worker), encode(message))  # pyright: ignore[reportUnknownMemberType]
        return receivers > 0

    async def listen(self, worker: str, callback: Callback) -> ControlListener:
        """Subscribe `worker`'s channel and hand each valid message to `callback`, in order.
        Subscribed when this returns; `await listener.stop()` ends it."""
        listener = ControlListener(self._redis, worker, callback)
        await listener.start()
        return listener


class ControlListener:
    """Hands each valid message on `worker`'s channel to the callback, one at a time. Reads
    bytes (a client of its own) so that no payload can upset the client's parser; after a
    lost connection it subscribes again on a new connection (messages sent meanwhile are
    lost: `send` told their senders nobody received them)."""

    def __init__(self, redis: Redis, worker: str, callback: Callback) -> None:
        self.worker = worker
        self._channel = channel(worker)
        self._client = reader_client(redis)
        self._pubsub: PubSub | None = None
        self._callback = callback
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.dropped = 0  # messages refused on receipt
        self.reconnects = 0

    async def start(self) -> None:
        await self._subscribe()
        self._task = asyncio.create_task(self._run(), name=f"control-listener:{self.worker}")

    async def _subscribe(self) -> None:
        pubsub: PubSub = self._client.pubsub(ignore_subscribe_messages=True)  # pyright: ignore[reportUnknownMemberType]
        try:
            await pubsub.subscribe(self._channel)  # pyright: ignore[reportUnknownMemberType]
        except BaseException:
            await pubsub.aclose()
            raise
        self._pubsub = pubsub

    async def stop(self) -> None:
        """Unsubscribe and end the listener. Its read is ended by closing the connection,
        not by a cancel (which can be lost inside the client on Python 3.11)."""
        self._stopping = True
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._pubsub is not None:
            await self._pubsub.aclose()  # a subscription made again while stopping
        await self._client.aclose()
        await self._client.connection_pool.aclose()

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            pubsub = self._pubsub
            try:
                if pubsub is None:
                    await self._subscribe()
                    self.reconnects += 1
                    failures = 0
                    log.info("control_listener_reconnected", worker=self.worker)
                    continue
                received: object = await pubsub.get_message(  # pyright: ignore[reportUnknownVariableType]
                    ignore_subscribe_messages=True, timeout=HEARTBEAT_S
                )
            except (*CONNECTION_ERRORS, RuntimeError) as exc:
                if self._stopping:
                    break
                if pubsub is not None:
                    self._pubsub = None
                    await pubsub.aclose()
                delay = RECONNECT_DELAYS_S[min(failures, len(RECONNECT_DELAYS_S) - 1)]
                failures += 1
                log.warning("control_listener_lost_redis", worker=self.worker, error=repr(exc))
                await asyncio.sleep(delay)  # backoff: Redis does not say when it is back
                continue
            message = cast("dict[str, object] | None", received)
            if message is None or message.get("type") not in ("message", b"message"):
                continue
            await self._handle(message.get("data"))

    async def _handle(self, raw: object) -> None:
        if not isinstance(raw, bytes):
            self.dropped += 1
            log.warning("control_message_dropped", worker=self.worker, reason="not bytes")
            return
        try:
            message = decode(raw)
        except ValueError as exc:  # pydantic's ValidationError included
            self.dropped += 1
            reason = str(exc).splitlines()[0][:200]
            log.warning("control_message_dropped", worker=self.worker, reason=reason)
            return
        try:
            outcome = self._callback(message)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            log.exception("control_callback_failed", worker=self.worker, kind=message.kind)
