"""Ownership of a conversation's turn as a lease in Redis: one worker at a time runs it.

A worker takes the lease with `SET key owner NX PX ms`, keeps it with a `Renewer` while the
turn runs (every lease a worker holds is renewed in one script call every third of the lease
time, so hundreds of turns cost it a few calls a second), and releases it when the turn
ends. Renew and release act only while the caller still owns the lease (a Lua script
compares the owner, then sets the expiry or deletes the key), so a worker that lost its
lease (it stalled, Redis restarted) can never cut short the lease of the worker that took
over. When the owner dies, its lease expires and another worker may `acquire` it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = structlog.get_logger(__name__)

KEY_PREFIX = "gatehouse:turn:"
LEASE_MS = 1_500
RENEW_BATCH = 500  # leases renewed in one script call (Redis runs it whole, blocking others)
CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)

# KEYS[i] a lease, ARGV[1] the lease time in ms, ARGV[i + 1] the owner of KEYS[i]
_RENEW_MANY = """
local renewed = {}
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i + 1] then
    renewed[i] = redis.call('PEXPIRE', KEYS[i], ARGV[1])
  else
    renewed[i] = 0
  end
end
return renewed
"""
# KEYS[1] the lease, ARGV[1] the owner
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS[1] the lease, KEYS[2] the hash of open turns; ARGV[1] the owner, ARGV[2] the
# conversation, ARGV[3] the lease time in ms
_ACQUIRE_OPEN = """
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then
  return 0
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[3]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return 1
end
return 0
"""
# KEYS a lease each: its owner (nil where nobody) and the ms it has left, side by side
_HOLDERS = """
local out = {}
for i = 1, #KEYS do
  out[2 * i - 1] = redis.call('GET', KEYS[i])
  out[2 * i] = redis.call('PTTL', KEYS[i])
end
return out
"""


def lease_key(conversation: str) -> str:
    return KEY_PREFIX + conversation


class TurnLeases:
    """The turn leases of every conversation, as seen through one Redis client."""

    def __init__(self, redis: Redis, *, lease_ms: int = LEASE_MS) -> None:
        if lease_ms < 3:
            raise ValueError("a lease must last at least 3 ms")
        self._redis = redis
        self.lease_ms = lease_ms
        self._release = redis.register_script(_RELEASE)
        self._renew_many = redis.register_script(_RENEW_MANY)
        self._holders = redis.register_script(_HOLDERS)
        self._acquire_open = redis.register_script(_ACQUIRE_OPEN)
        self._held: set[Renewer] = set()
        self._keeper: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()  # set by close()

    async def acquire(self, conversation: str, owner: str) -> bool:
        """Take the lease when nobody holds it; True when `owner` holds it now.

        Owners are unique per turn (a worker id with a token of its start): asking again for
        a lease already held answers True, so a try the client repeated after a failed
        connection (the first one may have set the key) cannot lock its own owner out."""
        key = lease_key(conversation)
        taken = await self._redis.set(key, owner, nx=True, px=self.lease_ms)  # pyright: ignore[reportUnknownMemberType]
        return bool(taken) or await self.owner(conversation) == owner

    async def acquire_open(self, conversation: str, owner: str, open_turns: str) -> bool:
        """`acquire`, only while the hash `open_turns` still records the conversation's turn
        as open. Its owner deletes the record before it lets the lease go, so a free lease
        with the record gone is a turn that ended, not one to take over (checked in Redis in
        one step: a look at the record, then a separate take, would let a worker take over a
        turn whose owner was just letting go, and keep that owner from its next turn)."""
        taken = await self._acquire_open(
            keys=[lease_key(conversation), open_turns], args=[owner, conversation, self.lease_ms]
        )
        return taken == 1

    async def renew(self, conversation: str, owner: str) -> bool:
        """Extend the lease by its full time if `owner` still holds it; False otherwise."""
        renewed: list[Any] = await self._renew_many(
            keys=[lease_key(conversation)], args=[self.lease_ms, owner]
        )
        return renewed == [1]

    async def release(self, conversation: str, owner: str) -> bool:
        """Give the lease up if `owner` holds it; another owner's lease is left alone."""
        released = await self._release(keys=[lease_key(conversation)], args=[owner])
        return released == 1

    async def owner(self, conversation: str) -> str | None:
        """Who holds the lease now, or None."""
        held: Any = await self._redis.get(lease_key(conversation))
        return None if held is None else str(held)

    async def holders(self, conversations: list[str]) -> list[tuple[str | None, int]]:
        """Who holds each conversation's lease and for how many more ms ((None, 0) where
        nobody), in one script call."""
        if not conversations:
            return []
        flat: list[Any] = await self._holders(keys=[lease_key(c) for c in conversations])
        return [
            (None, 0) if owner is None else (str(owner), max(int(ms), 0))
            for owner, ms in zip(flat[0::2], flat[1::2], strict=True)
        ]

    def renewer(
        self, conversation: str, owner: str, on_lost: Callable[[], object] | None = None
    ) -> Renewer:
        """Keep `owner`'s lease (already acquired) until stopped or lost."""
        renewer = Renewer(self, conversation, owner, on_lost)
        self._held.add(renewer)
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.create_task(self._keep(), name="lease-keeper")
        return renewer

    def let_go(self, renewer: Renewer) -> None:
        """`renewer` renews no more. A renewal in flight is let finish, not cancelled (a cancel
        can be lost inside the client on Python 3.11); its answer is ignored."""
        self._held.discard(renewer)

    async def close(self) -> None:
        """Renew nothing more and wait for the keeper to end (at shutdown)."""
        self._held.clear()
        self._closing.set()
        if self._keeper is not None:
            await asyncio.gather(self._keeper, return_exceptions=True)

    async def _keep(self) -> None:
        """Every third of the lease time, renew every held lease in one round trip; ends
        once none is held when it wakes (the next `renewer` starts another)."""
        interval_s = self.lease_ms / 3 / 1000
        while self._held:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), interval_s)
            held = list(self._held)
            if not held:
                return
            asked_at = time.monotonic()
            try:
                answers = await self._renew_all(held)
            except CONNECTION_ERRORS as exc:
                log.warning("lease_renewal_failed", leases=len(held), error=repr(exc))
                answers = [None] * len(held)
            for renewer, answer in zip(held, answers, strict=True):
                if renewer in self._held and not renewer.answered(answer, asked_at):
                    self._held.discard(renewer)  # lost: renewing it stops

    async def _renew_all(self, held: list[Renewer]) -> list[bool | None]:
        """Each lease renewed (True), found lost (False) or not answered (None): one script
        call for up to `RENEW_BATCH` leases (a pipeline costs the client CPU per lease)."""
        answers: list[bool | None] = []
        for start in range(0, len(held), RENEW_BATCH):
            part = held[start : start + RENEW_BATCH]
            keys = [lease_key(renewer.conversation) for renewer in part]
            try:
                results: list[Any] = await self._renew_many(
                    keys=keys, args=[self.lease_ms, *(renewer.owner for renewer in part)]
                )
            except ResponseError as exc:  # a key of another type: none of them is answered
                log.warning("lease_renewal_failed", leases=len(part), error=repr(exc))
                answers += [None] * len(part)
                continue
            answers += [result == 1 for result in results]
        return answers


class Renewer:
    """One held lease, renewed with every other lease of the worker every third of its time
    (`TurnLeases._keep`). The lease is lost when a renewal finds another owner (or none), or
    when Redis cannot be reached until the lease would have ended: then `lost` is set,
    `on_lost` is called once, and renewing stops. `stop()` ends renewing without releasing
    (the caller releases)."""

    def __init__(
        self,
        leases: TurnLeases,
        conversation: str,
        owner: str,
        on_lost: Callable[[], object] | None,
    ) -> None:
        self._leases = leases
        self.conversation = conversation
        self.owner = owner
        self._on_lost = on_lost
        self.lost = asyncio.Event()
        self.renewals = 0
        self._renewal = asyncio.Event()  # set (and replaced) at each renewal
        # held until then for sure: the caller acquired or renewed it just before
        self._held_until = time.monotonic() + leases.lease_ms / 1000

    def answered(self, held: bool | None, asked_at: float) -> bool:
        """What a renewal asked at `asked_at` found: held, lost, or no answer (None). False
        once the lease is lost."""
        if held is None and time.monotonic() < self._held_until:
            return True  # Redis may answer next time, before the lease would end
        if held:
            self._held_until = asked_at + self._leases.lease_ms / 1000
            self.renewals += 1
            self._renewal.set()
            self._renewal = asyncio.Event()
            return True
        log.warning("lease_lost", conversation=self.conversation, owner=self.owner)
        self.lost.set()
        if self._on_lost is not None:
            try:
                self._on_lost()
            except Exception:
                log.exception("lease_on_lost_failed", conversation=self.conversation)
        return False

    async def renewed(self, count: int) -> None:
        """Wait until the lease has been renewed `count` times in all."""
        while self.renewals < count:
            await self._renewal.wait()

    async def stop(self) -> None:
        """Stop renewing (the lease then runs out unless released)."""
        self._leases.let_go(self)
