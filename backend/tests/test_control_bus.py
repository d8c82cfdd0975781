"""gatehouse/control_bus.py against a real Redis: messages reach the named worker only, in
order; garbled, unknown or oversized ones are dropped and the listener carries on."""

from __future__ import annotations

import asyncio
import json
import time

import anyio
import pytest
from redis.asyncio import Redis

from gatehouse.control_bus import (
    MAX_MESSAGE_BYTES,
    ApprovalDecision,
    Cancel,
    ControlBus,
    ControlMessage,
    RulesChanged,
    channel,
)
from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio
DEADLINE_S = 10.0


class Inbox:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[ControlMessage] = asyncio.Queue()

    def __call__(self, message: ControlMessage) -> None:
        self.queue.put_nowait(message)

    async def next(self) -> ControlMessage:
        with anyio.fail_after(DEADLINE_S):
            return await self.queue.get()


async def test_a_message_reaches_the_named_worker_only_in_order(redis: Redis) -> None:
    bus = ControlBus(redis)
    inbox_a, inbox_b = Inbox(), Inbox()
    listener_a = await bus.listen("worker-a", inbox_a)
    listener_b = await bus.listen("worker-b", inbox_b)
    approval = ApprovalDecision(conversation="c1", tool_use_id="toolu_1", approved=True)
    assert await bus.send("worker-b", approval)
    assert await bus.send("worker-a", Cancel(conversation="c1"))
    assert await bus.send("worker-b", RulesChanged(conversation="c2"))
    assert await inbox_b.next() == approval
    assert await inbox_b.next() == RulesChanged(conversation="c2")
    # worker-a's one message came after worker-b's first: had that reached worker-a too, it
    # would be in worker-a's inbox before its own
    assert await inbox_a.next() == Cancel(conversation="c1")
    assert inbox_a.queue.empty() and inbox_b.queue.empty()
    await listener_a.stop()
    await listener_b.stop()
    assert not await bus.send("worker-a", Cancel(conversation="c1"))  # nobody listens now


async def test_send_tells_when_no_worker_listens(redis: Redis) -> None:
    bus = ControlBus(redis)
    assert not await bus.send("gone", Cancel(conversation="c"))


async def test_garbled_and_hostile_messages_are_dropped_and_the_listener_carries_on(
    redis: Redis, redis_server: RedisServer
) -> None:
    bus = ControlBus(redis)
    inbox = Inbox()
    listener = await bus.listen("worker-a", inbox)
    raw_client = Redis.from_url(redis_server.url)  # bytes, to send what is not UTF-8  # pyright: ignore[reportUnknownMemberType]
    bad: list[str | bytes] = [
        "not json",
        "",
        "[]",
        "null",
        '{"kind": "approval", "conversation": "c"}',  # no tool_use_id / approved
        '{"kind": "approval", "conversation": "c", "tool_use_id": "t", "approved": "yes"}',
        '{"kind": "shutdown", "conversation": "c"}',
        '{"kind": "cancel", "conversation": "c", "extra": 1}',
        '{"kind": "cancel", "conversation": ""}',
        json.dumps({"kind": "cancel", "conversation": "x" * 300}),
        json.dumps({"kind": "cancel", "conversation": "c", "pad": "x" * MAX_MESSAGE_BYTES}),
        '{"kind": "cancel", "conversation": "c"' + "," * 100_000,
        b"\xff\xfe{not utf-8}",
        "\ud800".encode("utf-8", "surrogatepass"),
    ]
    for raw in bad:
        assert await raw_client.publish(channel("worker-a"), raw) == 1  # pyright: ignore[reportUnknownMemberType]
    await raw_client.aclose()
    assert await bus.send("worker-a", Cancel(conversation="after"))
    assert await inbox.next() == Cancel(conversation="after")
    assert inbox.queue.empty()
    assert listener.dropped == len(bad)
    await listener.stop()


async def test_a_failing_callback_does_not_end_the_listener(redis: Redis) -> None:
    bus = ControlBus(redis)
    inbox = Inbox()

    async def callback(message: ControlMessage) -> None:
        if message.conversation == "boom":
            raise RuntimeError("the handler failed")
        inbox(message)

    listener = await bus.listen("worker-a", callback)
    assert await bus.send("worker-a", Cancel(conversation="boom"))
    assert await bus.send("worker-a", Cancel(conversation="fine"))
    assert await inbox.next() == Cancel(conversation="fine")
    await listener.stop()


async def test_the_listener_subscribes_again_after_redis_restarts(
    redis: Redis, redis_server: RedisServer
) -> None:
    bus = ControlBus(redis)
    inbox = Inbox()
    listener = await bus.listen("worker-a", inbox)
    await anyio.to_thread.run_sync(redis_server.restart)
    # Redis does not tell when a client subscribes: poll its count, with a deadline
    deadline = time.monotonic() + DEADLINE_S
    while not await bus.send("worker-a", Cancel(conversation="back")):
        assert time.monotonic() < deadline, "the listener did not subscribe again"
        await asyncio.sleep(0.05)
    assert await inbox.next() == Cancel(conversation="back")
    assert listener.reconnects >= 1
    await listener.stop()


def test_messages_are_refused_before_sending_when_invalid() -> None:
    with pytest.raises(ValueError):
        ApprovalDecision(conversation="c", tool_use_id="t" * 300, approved=True)
    with pytest.raises(ValueError):
        channel("")
