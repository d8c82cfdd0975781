"""Ownership of a conversation's turn as a lease in Redis: one worker at a time runs it.

A worker takes the lease with `SET key owner NX PX ms`, keeps it with a `Renewer` (renewing at
a third of the lease time) while the turn runs, and releases it when the turn ends. Renew and
release act only while the caller still owns the lease (a Lua script compares the owner, then
sets the expiry or deletes the key), so a worker that lost its lease (it stalled, Redis
restarted) can never cut short the lease of the worker that took over. When the owner dies,
its lease expires and another worker may `acquire` it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = structlog.get_logger(__name__)

KEY_PREFIX = "gatehouse:turn:"
LEASE_MS = 10_000
CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)

# KEYS[1] the lease, ARGV[1] the owner, ARGV[2] the lease time in ms
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# KEYS[1] the lease, ARGV[1] the owner
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
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
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def acquire(self, conversation: str, owner: str) -> bool:
        """Take the lease when nobody holds it; True when `owner` holds it now.

        Owners are unique per turn (a worker id with a token of its start): asking again for
        a lease already held answers True, so a try the client repeated after a failed
        connection (the first one may have set the key) cannot lock its own owner out."""
        key = lease_key(conversation)
        taken = await self._redis.set(key, owner, nx=True, px=self.lease_ms)  # pyright: ignore[reportUnknownMemberType]
        return bool(taken) or await self.owner(conversation) == owner

    async def renew(self, conversation: str, owner: str) -> bool:
        """Extend the lease by its full time if `owner` still holds it; False otherwise."""
        renewed = await self._renew(keys=[lease_key(conversation)], args=[owner, self.lease_ms])
        return renewed == 1

    async def release(self, conversation: str, owner: str) -> bool:
        """Give the lease up if `owner` holds it; another owner's lease is left alone."""
        released = await self._release(keys=[lease_key(conversation)], args=[owner])
        return released == 1

    async def owner(self, conversation: str) -> str | None:
        """Who holds the lease now, or None."""
        held: Any = await self._redis.get(lease_key(conversation))
        return None if held is None else str(held)

    async def owners(self, conversations: list[str]) -> list[str | None]:
        """Who holds each conversation's lease now (None where nobody), in one round trip."""
        if not conversations:
            return []
        held: list[Any] = await self._redis.mget([lease_key(c) for c in conversations])
        return [None if h is None else str(h) for h in held]

    def renewer(
        self, conversation: str, owner: str, on_lost: Callable[[], object] | None = None
    ) -> Renewer:
        """A task keeping `owner`'s lease (already acquired) until stopped or lost."""
        return Renewer(self, conversation, owner, on_lost)


class Renewer:
    """Renews a held lease every third of its time. The lease is lost when a renewal finds
    another owner (or none), or when Redis cannot be reached until the lease would have
    ended: then `lost` is set, `on_lost` is called once, and renewing stops. `stop()` ends
    renewing without releasing (the caller releases)."""

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
        self._stopping = asyncio.Event()
        self.renewals = 0
        self._renewed = asyncio.Condition()
        # held until then for sure: the caller acquired or renewed it just before
        self._held_until = time.monotonic() + leases.lease_ms / 1000
        self._task = asyncio.create_task(self._run(), name=f"lease-renewer:{conversation}")

    async def _run(self) -> None:
        interval_s = self._leases.lease_ms / 3 / 1000
        held_until = self._held_until
        while True:
            try:  # the renewal period, cut short by stop()
                await asyncio.wait_for(self._stopping.wait(), interval_s)
                return
            except TimeoutError:
                pass
            asked_at = time.monotonic()
            try:
                still_held = await self._leases.renew(self.conversation, self.owner)
            except CONNECTION_ERRORS as exc:
                log.warning("lease_renewal_failed", conversation=self.conversation, error=repr(exc))
                if time.monotonic() < held_until:
                    continue
                still_held = False
            if not still_held:
                break
            held_until = asked_at + self._leases.lease_ms / 1000
            async with self._renewed:
                self.renewals += 1
                self._renewed.notify_all()
        log.warning("lease_lost", conversation=self.conversation, owner=self.owner)
        self.lost.set()
        if self._on_lost is not None:
            try:
                self._on_lost()
            except Exception:
                log.exception("lease_on_lost_failed", conversation=self.conversation)

    async def renewed(self, count: int) -> None:
        """Wait until the lease has been renewed `count` times in all."""
        async with self._renewed:
            await self._renewed.wait_for(lambda: self.renewals >= count)

    async def stop(self) -> None:
        """Stop renewing (the lease then runs out unless released). A renewal in flight is
        let finish, not cancelled: a cancel can be lost inside the client on Python 3.11."""
        self._stopping.set()
        await asyncio.gather(self._task, return_exceptions=True)
