"""Each conversation's live frames on a Redis Stream, so a socket on one worker sees a reply
streaming on another, in order, each frame once.

The worker that owns a conversation's turn publishes every numbered frame (the JSON text the
Session sends, `Session._send`): `XADD` under the entry id `<seq>-0` with the seq also as a
field, the stream bounded by an approximate MAXLEN and its key given a TTL each time it is
written, so an ended conversation's stream goes away by itself. The publisher sends what piled
up in one script call (`publish_batch`); `publish` appends one frame.
Entry ids that are the seqs make the order Redis's own: a frame whose seq is not above the
last one published is refused (`FrameOutOfOrder`), never appended twice.

A `FrameReader` yields what follows a given seq (`XREAD BLOCK`), in order and each once. The
seqs of a conversation rise by one, so a reader that sees a jump knows frames are missing.
It yields a `Gap` instead of skipping silently:

- the next frame's seq is more than one above the last one it gave (the stream was trimmed,
  or Redis lost frames): `Gap(after=last, before=seq)`, then that frame;
- its connection to Redis was lost (Redis restarted, perhaps empty): after reconnecting,
  `Gap(after=last, before=None)`: frames after `last` may have been missed.

On a gap the caller reads the missing frames from the store's frame log and calls
`advance(seq)` with the last one it got there; the reader then never yields a frame at or
below it. `close()` ends the iteration cleanly, also while the reader waits in XREAD.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gatehouse.redis_client import reader_client

log = structlog.get_logger(__name__)

KEY_PREFIX = "gatehouse:frames:"
MAXLEN = 10_000  # frames kept per conversation (approximately: `MAXLEN ~`)
TTL_MS = 3_600_000  # a stream nobody has written to for an hour goes away
BLOCK_MS = 5_000  # one XREAD waits this long at most, then waits again
READ_COUNT = 512  # frames per XREAD
RECONNECT_DELAYS_S = (0.05, 0.1, 0.2, 0.5, 1.0)  # then 1 s between attempts
CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)

# KEYS[i] the stream of the i-th frame; ARGV[1] MAXLEN, ARGV[2] the TTL in ms, then for each
# frame its entry id (`<seq>-0`) and its text. Frames are appended in order; one refused (its
# seq not above the stream's last) is answered as its index and Redis's error, and the rest
# still go. Each stream written gets its TTL again.
_PUBLISH_MANY = """
local refused, streams = {}, {}
for i = 1, #KEYS do
  local id = ARGV[2 * i + 1]
  local added = redis.pcall('XADD', KEYS[i], 'MAXLEN', '~', ARGV[1], id,
    'seq', string.sub(id, 1, -3), 'frame', ARGV[2 * i + 2])
  if type(added) == 'table' and added.err then
    refused[#refused + 1] = i
    refused[#refused + 1] = added.err
  else
    streams[KEYS[i]] = true
  end
end
for key in pairs(streams) do
  redis.call('PEXPIRE', key, ARGV[2])
end
return refused
"""


class FrameOutOfOrder(Exception):
    """A frame's seq is not above the last one on the conversation's stream."""


@dataclass(frozen=True, slots=True)
class Frame:
    seq: int
    text: str


@dataclass(frozen=True, slots=True)
class Gap:
    """Frames after `after` may be missing: all of them up to `before` (exclusive) when it is
    known, or any number of them (`before is None`, after a lost connection)."""

    after: int
    before: int | None


def stream_key(conversation: str) -> str:
    return KEY_PREFIX + conversation


class FrameBus:
    """Publish and read conversations' frames through one Redis client."""

    def __init__(
        self, redis: Redis, *, maxlen: int = MAXLEN, ttl_ms: int = TTL_MS, block_ms: int = BLOCK_MS
    ) -> None:
        self._redis = redis
        self._maxlen = maxlen
        self._ttl_ms = ttl_ms
        self._block_ms = block_ms
        self._publish_many = redis.register_script(_PUBLISH_MANY)

    async def publish(self, conversation: str, seq: int, frame: str) -> None:
        """Append one frame; raises FrameOutOfOrder when `seq` is not above the stream's last,
        and the client's ConnectionError when Redis cannot be reached (the frame log in the
        store still has the frame; readers will report the gap)."""
        if seq < 1:
            raise FrameOutOfOrder(f"seq {seq} is not positive")
        refused = await self._append([(conversation, seq, frame)])
        if not refused:
            return
        _, error = refused[0]
        if "equal or smaller" not in error:
            raise ResponseError(error)
        # The client tries once more when a connection fails: the first try may have written
        # this very frame. Anything else under this seq is a real conflict.
        key, entry_id = stream_key(conversation), f"{seq}-0"
        found: Any = await self._redis.xrange(key, min=entry_id, max=entry_id)
        if not (found and found[0][1].get("frame") == frame):
            raise FrameOutOfOrder(f"seq {seq} is not above the last on {key}")

    async def publish_batch(self, frames: list[tuple[str, int, str]]) -> list[str]:
        """Append many frames `(conversation, seq, frame)` in one call (a worker's frames of
        many conversations, each conversation's in order). Returns what was refused as out of
        order, one line each (`publish` answers for one frame; a refused frame is a gap its
        readers fill from the store). Raises the client's ConnectionError.

        One script call, not a pipeline of XADDs: the `redis` client's CPU is per command
        (packing it, reading its answer), ~40 µs each, where the script's arguments cost a
        few µs a frame (bench/results/FINDINGS.md)."""
        return [
            f"{frames[index][0]} seq {frames[index][1]}: {error}"
            for index, error in await self._append(frames)
        ]

    async def _append(self, frames: list[tuple[str, int, str]]) -> list[tuple[int, str]]:
        """Run `_PUBLISH_MANY` on `frames`: the index of each refused frame and Redis's error."""
        keys: list[str] = []
        args: list[str | int] = [self._maxlen, self._ttl_ms]
        for conversation, seq, frame in frames:
            keys.append(stream_key(conversation))
            args += (f"{max(seq, 0)}-0", frame)
        refused: list[Any] = await self._publish_many(keys=keys, args=args)
        return [
            (int(index) - 1, str(error))
            for index, error in zip(refused[::2], refused[1::2], strict=True)
        ]

    async def last_seq(self, conversation: str) -> int:
        """The seq of the last frame on the stream, 0 when it is empty or gone."""
        entries: Any = await self._redis.xrevrange(stream_key(conversation), count=1)
        return _seq_of(str(entries[0][0])) if entries else 0

    def reader(self, conversation: str, after: int) -> FrameReader:
        """The frames with a seq above `after`, as they come."""
        return FrameReader(self._redis, stream_key(conversation), after, self._block_ms)


class FrameReader:
    """An async iterator of `Frame` and `Gap` (see the module's docstring)."""

    def __init__(self, redis: Redis, key: str, after: int, block_ms: int) -> None:
        self._client = reader_client(redis)  # a connection of its own: XREAD BLOCK holds it
        self._key = key
        self._last = after  # the last seq given to the caller (or skipped through advance)
        self._block_ms = block_ms
        self._pending: list[Frame | Gap] = []
        self._closed = asyncio.Event()
        self._lost_connection = False

    @property
    def last_seq(self) -> int:
        return self._last

    def advance(self, seq: int) -> None:
        """The caller has the frames up to `seq` (from the store): never yield them."""
        self._last = max(self._last, seq)

    def close(self) -> None:
        """End the iteration: a waiting `__anext__` returns StopAsyncIteration."""
        self._closed.set()

    async def aclose(self) -> None:
        """Close, and give the reader's connection back now (iterating after close does too)."""
        self.close()
        await self._release()

    async def _release(self) -> None:
        await self._client.aclose()
        await self._client.connection_pool.aclose()

    def __aiter__(self) -> AsyncIterator[Frame | Gap]:
        return self

    async def __anext__(self) -> Frame | Gap:
        while not self._closed.is_set():
            while self._pending:
                item = self._pending.pop(0)
                if isinstance(item, Gap):
                    if item.before is not None and item.before <= self._last + 1:
                        continue  # filled through advance() since it was read
                    return Gap(after=self._last, before=item.before)
                if item.seq > self._last:  # not skipped by advance() since it was read
                    self._last = item.seq
                    return item
            if self._lost_connection:
                if not await self._reconnect():
                    break
                self._lost_connection = False
                return Gap(after=self._last, before=None)
            try:
                entries = await self._read()
            except CONNECTION_ERRORS as exc:
                log.warning("frame_reader_lost_redis", key=self._key, error=repr(exc))
                self._lost_connection = True
                continue
            if entries is None:  # closed while waiting
                break
            self._queue(entries)
        await self._release()
        raise StopAsyncIteration

    def _queue(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        expected = self._last + 1
        for entry_id, fields in entries:
            seq = _seq_of(entry_id.decode("ascii"))
            if seq < expected:
                continue  # at or below what the caller has: never twice
            if seq > expected:
                self._add_gap(Gap(after=expected - 1, before=seq))
            expected = seq + 1
            frame: str | None = None
            try:
                if fields[b"seq"] == str(seq).encode():
                    frame = fields[b"frame"].decode()
            except (KeyError, UnicodeDecodeError):
                pass
            if frame is None:  # not written by publish(): the caller gets it from the store
                log.error("frame_entry_malformed", key=self._key, seq=seq)
                self._add_gap(Gap(after=seq - 1, before=seq + 1))
                continue
            self._pending.append(Frame(seq, frame))

    def _add_gap(self, gap: Gap) -> None:
        """Queue a gap; one that continues the gap queued last makes it longer."""
        last = self._pending[-1] if self._pending else None
        if isinstance(last, Gap) and last.before == gap.after + 1:
            self._pending[-1] = Gap(after=last.after, before=gap.before)
        else:
            self._pending.append(gap)

    async def _read(self) -> list[tuple[bytes, dict[bytes, bytes]]] | None:
        """The next entries after the last seq; None when closed while waiting.

        The XREAD is never cancelled (on Python 3.11 a cancel can be lost inside the client,
        leaving the read blocked): closing cuts the reader's own connection instead."""
        read = asyncio.ensure_future(
            self._client.xread(  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
                {self._key: f"{self._last}-0"}, count=READ_COUNT, block=self._block_ms
            )
        )
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            await asyncio.wait({read, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
        if self._closed.is_set():
            # Closed before the read's connection was made: wait for it, then cut it (a read
            # left alone would block for BLOCK_MS).
            while not read.done() and self._client.connection is None:
                await asyncio.sleep(0.001)
            if not read.done() and self._client.connection is not None:
                await self._client.connection.disconnect(nowait=True)
            await asyncio.gather(read, return_exceptions=True)
            return None
        response: Any = read.result()
        if not response:
            return []
        # RESP2: [[key, [(id, {field: value}), ...]]]; RESP3: {key: [[(id, {...}), ...]]}
        if isinstance(response, dict):
            streams: list[Any] = [entries for entries in response.values()]  # pyright: ignore[reportUnknownVariableType]
            return [entry for batch in streams for entry in batch[0]]
        return list(response[0][1])

    async def _reconnect(self) -> bool:
        """Wait until Redis answers again; False when closed first."""
        attempt = 0
        while not self._closed.is_set():
            delay = RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)]
            try:
                await asyncio.wait_for(self._closed.wait(), delay)
                return False
            except TimeoutError:
                pass
            try:
                await self._client.ping()  # pyright: ignore[reportUnknownMemberType]
            except CONNECTION_ERRORS:
                attempt += 1
                continue
            log.info("frame_reader_reconnected", key=self._key, after=self._last)
            return True
        return False


def _seq_of(entry_id: str) -> int:
    return int(entry_id.split("-", 1)[0])
