"""The one way Gatehouse opens Redis (`REDIS_URL`): the `redis` package's asyncio client.

Retries are off: a lost connection is an error the caller sees, because each caller must act on
it (a frame reader reports a possible gap, a lease renewer counts down to the lease's end); a
retry hidden inside the client would hide a restart that emptied Redis.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# Longer than any blocking read (frame_bus.BLOCK_MS), so only a dead connection times out.
SOCKET_TIMEOUT_S = 15.0
CONNECT_TIMEOUT_S = 5.0


def connect(url: str) -> Redis:
    """A client on `url` (redis://, rediss:// or unix://) that returns str, never bytes."""
    return Redis.from_url(  # pyright: ignore[reportUnknownMemberType]
        url,
        decode_responses=True,
        retry=Retry(NoBackoff(), 0),
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        health_check_interval=10,
    )
