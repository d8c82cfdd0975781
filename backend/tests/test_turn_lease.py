"""gatehouse/turn_lease.py against a real Redis: one owner at a time, renewals that keep the
lease, takeover once the holder stops renewing, and no effect from a worker that lost it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

import anyio
import pytest
from redis.asyncio import Redis

from gatehouse.redis_client import POOL_SIZE
from gatehouse.shared_sessions import OPEN_TURNS, SharedSessions
from gatehouse.turn_lease import TurnLeases, lease_key
from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio
DEADLINE_S = 10.0
SHORT_MS = 300


async def expired(redis: Redis, key: str) -> AsyncIterator[None]:
    """Yields once when Redis reports `key` expired (keyspace notifications, no polling)."""
    await redis.config_set("notify-keyspace-events", "Ex")  # pyright: ignore[reportUnknownMemberType]
    pubsub = redis.pubsub(ignore_subscribe_messages=True)  # pyright: ignore[reportUnknownMemberType]
    await pubsub.subscribe("__keyevent@0__:expired")  # pyright: ignore[reportUnknownMemberType]
    try:
        yield  # subscribed: the caller lets the lease lapse now
        with anyio.fail_after(DEADLINE_S):
            while True:
                received: object = await pubsub.get_message(timeout=None)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
                message = cast("dict[str, object] | None", received)
                if message is not None and message["data"] == key:
                    return
    finally:
        await pubsub.aclose()


async def test_one_owner_at_a_time(redis: Redis) -> None:
    leases = TurnLeases(redis, lease_ms=10_000)
    assert await leases.owner("c") is None
    assert await leases.acquire("c", "worker-a")
    assert not await leases.acquire("c", "worker-b")
    assert await leases.acquire("c", "worker-a")  # held already: a repeated try answers so
    assert await leases.owner("c") == "worker-a"
    assert await leases.acquire("other", "worker-b")  # leases are per conversation
    ttl: int = await redis.pttl(lease_key("c"))  # pyright: ignore[reportUnknownMemberType]
    assert 0 < ttl <= 10_000


async def test_release_and_renew_by_a_non_owner_do_nothing(redis: Redis) -> None:
    leases = TurnLeases(redis, lease_ms=10_000)
    assert await leases.acquire("c", "worker-a")
    await redis.pexpire(lease_key("c"), 5_000)  # pyright: ignore[reportUnknownMemberType]
    assert not await leases.release("c", "worker-b")
    assert not await leases.renew("c", "worker-b")
    assert await leases.owner("c") == "worker-a"
    ttl: int = await redis.pttl(lease_key("c"))  # pyright: ignore[reportUnknownMemberType]
    assert 0 < ttl <= 5_000  # worker-b's renewal did not extend it
    assert await leases.renew("c", "worker-a")
    ttl = await redis.pttl(lease_key("c"))  # pyright: ignore[reportUnknownMemberType]
    assert 5_000 < ttl <= 10_000
    assert await leases.release("c", "worker-a")
    assert await leases.owner("c") is None
    assert not await leases.release("c", "worker-a")
    assert not await leases.renew("c", "worker-a")  # renewing never re-creates a lease
    assert await leases.acquire("c", "worker-b")


async def test_another_worker_takes_over_when_the_holder_stops_renewing(redis: Redis) -> None:
    leases = TurnLeases(redis, lease_ms=SHORT_MS)
    assert await leases.acquire("c", "worker-a")
    renewer = leases.renewer("c", "worker-a")
    with anyio.fail_after(DEADLINE_S):
        await renewer.renewed(4)  # four renewals: longer than one lease time
    assert not await leases.acquire("c", "worker-b")
    assert await leases.owner("c") == "worker-a"
    assert not renewer.lost.is_set()

    lapse = expired(redis, lease_key("c"))
    await anext(lapse)
    await renewer.stop()  # the holder stalls or dies: nothing renews the lease
    await anext(lapse, None)
    assert await leases.acquire("c", "worker-b")
    assert not renewer.lost.is_set()  # stopped, not lost
    # the old holder coming back can neither keep nor end the new owner's lease
    assert not await leases.renew("c", "worker-a")
    assert not await leases.release("c", "worker-a")
    assert await leases.owner("c") == "worker-b"


async def test_a_renewer_reports_a_lease_taken_by_another_worker(redis: Redis) -> None:
    leases = TurnLeases(redis, lease_ms=SHORT_MS)
    assert await leases.acquire("c", "worker-a")
    calls: list[str] = []
    renewer = leases.renewer("c", "worker-a", on_lost=lambda: calls.append("lost"))
    await redis.set(lease_key("c"), "worker-b", px=10_000)  # pyright: ignore[reportUnknownMemberType]
    with anyio.fail_after(DEADLINE_S):
        await renewer.lost.wait()
    assert calls == ["lost"]
    assert await leases.owner("c") == "worker-b"
    await renewer.stop()


async def test_a_renewer_reports_the_lease_lost_when_redis_stays_away(
    redis: Redis, redis_server: RedisServer
) -> None:
    leases = TurnLeases(redis, lease_ms=SHORT_MS)
    assert await leases.acquire("c", "worker-a")
    renewer = leases.renewer("c", "worker-a")
    with anyio.fail_after(DEADLINE_S):
        await renewer.renewed(1)
    await anyio.to_thread.run_sync(redis_server.stop)
    with anyio.fail_after(DEADLINE_S):
        await renewer.lost.wait()
    await renewer.stop()
    await anyio.to_thread.run_sync(redis_server.start)
    assert await leases.owner("c") is None  # Redis came back empty
    assert await leases.acquire("c", "worker-b")  # the script is loaded again by itself
    assert await leases.renew("c", "worker-b")


async def test_stop_returns_promptly_and_renews_no_more(redis: Redis) -> None:
    leases = TurnLeases(redis, lease_ms=30_000)
    assert await leases.acquire("c", "worker-a")
    renewer = leases.renewer("c", "worker-a")
    with anyio.fail_after(2.0):  # far less than the 10 s renewal period
        await renewer.stop()
    assert renewer.renewals == 0


async def test_a_burst_larger_than_the_pool_waits_for_connections_and_every_lease_is_taken(
    redis: Redis,
) -> None:
    """Hundreds of turns taking their leases at once: the pool is bounded, so the commands
    queue for a connection; none fails with "Too many connections"."""
    leases = TurnLeases(redis, lease_ms=10_000)
    conversations = [f"burst-{n}" for n in range(5 * POOL_SIZE)]
    taken = await asyncio.gather(*(leases.acquire(c, "worker-a") for c in conversations))
    assert all(taken)
    owners = await asyncio.gather(*(leases.owner(c) for c in conversations))
    assert owners == ["worker-a"] * len(conversations)


async def test_holders_of_many_conversations_and_their_time_left_in_one_call(
    redis: Redis,
) -> None:
    leases = TurnLeases(redis, lease_ms=10_000)
    assert await leases.holders([]) == []
    assert await leases.acquire("m1", "worker-a")
    await redis.set(lease_key("m3"), "worker-b", px=3_000)  # pyright: ignore[reportUnknownMemberType]
    (a, a_ms), (nobody, nobody_ms), (b, b_ms) = await leases.holders(["m1", "m2", "m3"])
    assert (a, nobody, b) == ("worker-a", None, "worker-b")
    assert 3_000 < a_ms <= 10_000  # what the scan of another worker waits for
    assert 0 < b_ms <= 3_000
    assert nobody_ms == 0


async def test_leases_renewed_together_are_lost_one_by_one(redis: Redis) -> None:
    """A worker's leases are renewed in one batch: one taken by another worker is reported
    lost and leaves the batch; the others go on being renewed."""
    leases = TurnLeases(redis, lease_ms=SHORT_MS)
    conversations = ["t1", "t2", "t3"]
    for conversation in conversations:
        assert await leases.acquire(conversation, "worker-a")
    lost: list[str] = []
    renewers = [
        leases.renewer(c, "worker-a", on_lost=lambda c=c: lost.append(c)) for c in conversations
    ]
    await redis.set(lease_key("t2"), "worker-b", px=10_000)  # pyright: ignore[reportUnknownMemberType]
    with anyio.fail_after(DEADLINE_S):
        await renewers[1].lost.wait()
        counts = [r.renewals for r in renewers]
        await renewers[0].renewed(counts[0] + 4)  # longer than a lease after the loss
        await renewers[2].renewed(counts[2] + 4)
    assert lost == ["t2"]
    holders = await leases.holders(conversations)
    assert [owner for owner, _ms in holders] == ["worker-a", "worker-b", "worker-a"]
    for renewer in renewers:
        await renewer.stop()


async def test_a_lease_taken_while_the_last_one_is_let_go_is_renewed_and_stop_returns(
    redis: Redis,
) -> None:
    """The keeper's last lease goes and a new one comes before the keeper ran again: the
    stop returns at once and the new lease is renewed on the keeper's period."""
    leases = TurnLeases(redis, lease_ms=SHORT_MS)
    assert await leases.acquire("first", "worker-a")
    assert await leases.acquire("second", "worker-a")
    first = leases.renewer("first", "worker-a")
    stopping = asyncio.create_task(first.stop())
    await asyncio.sleep(0)  # the stop has begun
    second = leases.renewer("second", "worker-a")
    with anyio.fail_after(DEADLINE_S):
        await stopping
        await second.renewed(4)  # longer than one lease time
    assert await leases.owner("second") == "worker-a"
    assert first.renewals == 0
    await leases.close()


async def test_the_scan_comes_back_when_the_first_lease_held_elsewhere_ends(redis: Redis) -> None:
    """A dead worker's turns are taken as their leases end, not up to a scan interval later:
    the scan reports when the first lease of another worker is due (its own do not count)."""
    # The scan of open turns needs neither the store nor the policy.
    shared = SharedSessions(
        redis, cast(Any, None), cast(Any, None), lease_ms=10_000, frame_retention_s=60, worker="a"
    )
    await redis.hset(OPEN_TURNS, mapping={"near": "{}", "far": "{}", "mine": "{}"})  # pyright: ignore[reportUnknownMemberType]
    await redis.set(lease_key("near"), "worker-b", px=2_000)  # pyright: ignore[reportUnknownMemberType]
    await redis.set(lease_key("far"), "worker-b", px=9_000)  # pyright: ignore[reportUnknownMemberType]
    await redis.set(lease_key("mine"), "a", px=500)  # pyright: ignore[reportUnknownMemberType]
    next_end_s = await shared._scan_once()  # pyright: ignore[reportPrivateUsage]
    assert next_end_s is not None
    assert 0.5 < next_end_s <= 2.0
    await redis.hdel(OPEN_TURNS, "near", "far", "mine")  # pyright: ignore[reportUnknownMemberType]
    assert await shared._scan_once() is None  # pyright: ignore[reportPrivateUsage]


async def test_a_turn_is_taken_over_only_while_it_is_recorded_open(redis: Redis) -> None:
    """An owner deletes its open-turn record before it lets the lease go: a worker that saw
    the record a moment before must not take the lease once the record is gone (it would hold
    a turn that ended, and the owner's next message would be told `busy`)."""
    leases = TurnLeases(redis, lease_ms=10_000)
    await redis.hset(OPEN_TURNS, "open", "{}")  # pyright: ignore[reportUnknownMemberType]
    assert await leases.acquire("open", "worker-a")
    assert not await leases.acquire_open("open", "worker-b", OPEN_TURNS)  # held: not taken
    await redis.hdel(OPEN_TURNS, "open")  # pyright: ignore[reportUnknownMemberType]
    assert await leases.release("open", "worker-a")
    assert not await leases.acquire_open("open", "worker-b", OPEN_TURNS)  # ended: not taken
    assert await leases.owner("open") is None
    await redis.hset(OPEN_TURNS, "open", "{}")  # pyright: ignore[reportUnknownMemberType]
    assert await leases.acquire_open("open", "worker-b", OPEN_TURNS)  # left open, held by none
    assert await leases.acquire_open("open", "worker-b", OPEN_TURNS)  # asked again: still yes
    assert await leases.owner("open") == "worker-b"
    await redis.hdel(OPEN_TURNS, "open")  # pyright: ignore[reportUnknownMemberType]
