"""gatehouse/frame_bus.py against a real Redis (tests/redis_server.py): frames in order, each
once, for readers started at any point; gaps reported, never skipped silently."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from gatehouse.frame_bus import Frame, FrameBus, FrameOutOfOrder, FrameReader, Gap, stream_key
from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio
DEADLINE_S = 10.0


def text(seq: int) -> str:
    return f'{{"event":"ai_chunk","data":{{"text":"part {seq} é"}},"seq":{seq}}}'


class Collector:
    """Iterates a reader in a task; the test waits on what it has seen."""

    def __init__(self, reader: FrameReader) -> None:
        self.reader = reader
        self.items: list[Frame | Gap] = []
        self._seen = asyncio.Condition()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for item in self.reader:
            async with self._seen:
                self.items.append(item)
                self._seen.notify_all()

    async def until(self, count: int) -> list[Frame | Gap]:
        with anyio.fail_after(DEADLINE_S):
            async with self._seen:
                await self._seen.wait_for(lambda: len(self.items) >= count)
        return list(self.items)

    async def close(self) -> None:
        self.reader.close()
        with anyio.fail_after(DEADLINE_S):
            await self.task


async def test_a_reader_started_mid_stream_sees_each_later_frame_once_in_order(
    redis: Redis,
) -> None:
    bus = FrameBus(redis)
    for seq in range(1, 6):
        await bus.publish("c1", seq, text(seq))
    reader = Collector(bus.reader("c1", after=3))
    for seq in range(6, 31):
        await bus.publish("c1", seq, text(seq))
        await asyncio.sleep(0)  # let the reader take some while the rest is being written
    items = await reader.until(27)
    await bus.publish("c1", 31, text(31))
    items = await reader.until(28)
    await reader.close()
    assert items == [Frame(seq, text(seq)) for seq in range(4, 32)]
    assert reader.items == items  # nothing after the last frame: no duplicates


async def test_two_readers_see_the_same_frames(redis: Redis) -> None:
    bus = FrameBus(redis)
    first, second = Collector(bus.reader("c2", 0)), Collector(bus.reader("c2", 0))
    other = Collector(bus.reader("another", 0))
    for seq in range(1, 201):
        await bus.publish("c2", seq, text(seq))
    expected = [Frame(seq, text(seq)) for seq in range(1, 201)]
    assert await first.until(200) == expected
    assert await second.until(200) == expected
    await bus.publish("another", 1, "x")
    assert await other.until(1) == [Frame(1, "x")]  # the other conversation's frames only
    for collector in (first, second, other):
        await collector.close()


async def test_a_frame_not_above_the_last_is_refused_not_appended(redis: Redis) -> None:
    bus = FrameBus(redis)
    await bus.publish("c3", 1, text(1))
    await bus.publish("c3", 2, text(2))
    for seq in (2, 1, 0):
        with pytest.raises(FrameOutOfOrder):
            await bus.publish("c3", seq, "again")
    assert await redis.xlen(stream_key("c3")) == 2  # pyright: ignore[reportUnknownMemberType]
    assert await bus.last_seq("c3") == 2
    assert await bus.last_seq("nothing") == 0


async def test_the_stream_expires_and_is_bounded(redis: Redis) -> None:
    bus = FrameBus(redis, maxlen=100, ttl_ms=60_000)
    for seq in range(1, 1001):
        await bus.publish("c4", seq, text(seq))
    ttl: int = await redis.pttl(stream_key("c4"))  # pyright: ignore[reportUnknownMemberType]
    assert 0 < ttl <= 60_000
    length: int = await redis.xlen(stream_key("c4"))  # pyright: ignore[reportUnknownMemberType]
    assert 100 <= length < 1000  # approximate trimming keeps at least MAXLEN


async def test_frames_trimmed_away_are_reported_as_a_gap(redis: Redis) -> None:
    bus = FrameBus(redis, maxlen=100)
    for seq in range(1, 1001):
        await bus.publish("c5", seq, text(seq))
    reader = Collector(bus.reader("c5", after=10))
    items = await reader.until(2)
    first_kept: Any = await redis.xrange(stream_key("c5"), count=1)
    oldest = int(str(first_kept[0][0]).split("-")[0])
    assert oldest > 11
    assert items[:2] == [Gap(after=10, before=oldest), Frame(oldest, text(oldest))]
    await reader.close()

    # the caller fills the gap from the store while the reader already holds later frames
    raw = bus.reader("c5", after=10)
    assert await anext(raw) == Gap(after=10, before=oldest)
    raw.advance(oldest + 5)
    assert await anext(raw) == Frame(oldest + 6, text(oldest + 6))
    await raw.aclose()


async def test_advance_skips_what_the_caller_got_from_the_store(redis: Redis) -> None:
    bus = FrameBus(redis)
    for seq in range(1, 4):
        await bus.publish("c6", seq, text(seq))
    raw = bus.reader("c6", after=0)
    raw.advance(2)
    reader = Collector(raw)
    assert await reader.until(1) == [Frame(3, text(3))]
    await reader.close()


async def test_close_ends_a_reader_waiting_for_frames(redis: Redis) -> None:
    bus = FrameBus(redis, block_ms=10_000)
    reader = Collector(bus.reader("c7", after=0))
    await bus.publish("c7", 1, text(1))
    assert await reader.until(1) == [Frame(1, text(1))]  # now waiting in XREAD BLOCK
    await reader.close()  # returns within the deadline, long before the block ends
    assert reader.task.exception() is None
    assert await redis.ping()  # pyright: ignore[reportUnknownMemberType]


async def test_a_reader_reports_a_gap_after_redis_restarts(
    redis: Redis, redis_server: RedisServer
) -> None:
    bus = FrameBus(redis)
    for seq in range(1, 4):
        await bus.publish("c8", seq, text(seq))
    reader = Collector(bus.reader("c8", after=0))
    assert await reader.until(3) == [Frame(seq, text(seq)) for seq in range(1, 4)]

    await anyio.to_thread.run_sync(redis_server.stop)
    with pytest.raises(RedisConnectionError):
        await bus.publish("c8", 4, text(4))  # lost: the owner keeps it in the store's log
    await anyio.to_thread.run_sync(redis_server.start)  # empty: no persistence
    items = await reader.until(4)
    assert items[3] == Gap(after=3, before=None)

    reader.reader.advance(4)  # the caller filled the gap from the store's frame log
    await bus.publish("c8", 5, text(5))
    assert (await reader.until(5))[4] == Frame(5, text(5))

    # a caller that could not fill it is told again which frames are missing
    await anyio.to_thread.run_sync(redis_server.restart)
    items = await reader.until(6)
    assert items[5] == Gap(after=5, before=None)
    await bus.publish("c8", 7, text(7))
    items = await reader.until(8)
    assert items[6:] == [Gap(after=5, before=7), Frame(7, text(7))]
    await reader.close()
    assert len(reader.items) == 8


async def test_an_entry_not_written_by_publish_is_a_gap_not_a_frame(
    redis: Redis, redis_server: RedisServer
) -> None:
    bus = FrameBus(redis)
    await bus.publish("c9", 1, text(1))
    raw = Redis.from_url(redis_server.url)  # pyright: ignore[reportUnknownMemberType]
    key = stream_key("c9")
    await raw.xadd(key, {b"seq": b"2", b"frame": b"\xff\xfe not UTF-8"}, id="2-0")  # pyright: ignore[reportUnknownMemberType]
    await raw.xadd(key, {b"frame": b"no seq"}, id="3-0")  # pyright: ignore[reportUnknownMemberType]
    await raw.xadd(key, {b"seq": b"9", b"frame": b"seq field disagrees"}, id="4-0")  # pyright: ignore[reportUnknownMemberType]
    await raw.aclose()
    await bus.publish("c9", 5, text(5))
    reader = Collector(bus.reader("c9", after=0))
    items = await reader.until(3)
    assert items == [Frame(1, text(1)), Gap(after=1, before=5), Frame(5, text(5))]
    await reader.close()


async def test_a_batch_of_several_conversations_reads_as_its_frames_one_by_one(
    redis: Redis,
) -> None:
    bus = FrameBus(redis)
    await bus.publish("b2", 3, text(3))
    batch = [("b1", 1, text(1)), ("b2", 2, text(2)), ("b1", 2, text(2)), ("b2", 4, text(4))]
    refused = await bus.publish_batch(batch)
    assert len(refused) == 1 and refused[0].startswith("b2 seq 2:")  # not above 3: refused
    first, second = Collector(bus.reader("b1", after=0)), Collector(bus.reader("b2", after=0))
    assert await first.until(2) == [Frame(1, text(1)), Frame(2, text(2))]
    assert await second.until(3) == [Gap(after=0, before=3), Frame(3, text(3)), Frame(4, text(4))]
    await first.close()
    await second.close()
    assert await redis.pttl(stream_key("b1")) > 0  # pyright: ignore[reportUnknownMemberType]


async def test_a_batch_gives_each_stream_its_ttl_again_and_keeps_it_bounded(
    redis: Redis,
) -> None:
    """Each stream a batch writes gets its TTL again (one that lost it gets it back), and
    trimming keeps about MAXLEN entries, in one script call."""
    bus = FrameBus(redis, maxlen=100, ttl_ms=60_000)
    await bus.publish_batch([("t1", 1, text(1))])
    assert 0 < await redis.pttl(stream_key("t1")) <= 60_000  # pyright: ignore[reportUnknownMemberType]
    await redis.persist(stream_key("t1"))  # pyright: ignore[reportUnknownMemberType]
    await bus.publish_batch([(f"t{1 + seq % 2}", 2 + seq // 2, text(seq)) for seq in range(600)])
    assert await redis.pttl(stream_key("t1")) > 0  # pyright: ignore[reportUnknownMemberType]
    assert await redis.pttl(stream_key("t2")) > 0  # pyright: ignore[reportUnknownMemberType]
    assert 100 <= await redis.xlen(stream_key("t1")) < 300  # pyright: ignore[reportUnknownMemberType]
    assert await bus.last_seq("t1") == 301


async def test_a_batch_refused_for_a_key_of_another_type_goes_on_with_the_rest(
    redis: Redis,
) -> None:
    await redis.set(stream_key("not-a-stream"), "x")  # pyright: ignore[reportUnknownMemberType]
    bus = FrameBus(redis)
    refused = await bus.publish_batch([("not-a-stream", 1, text(1)), ("fine", 1, text(1))])
    assert len(refused) == 1 and refused[0].startswith("not-a-stream seq 1:")
    assert "WRONGTYPE" in refused[0]
    assert await bus.last_seq("fine") == 1
