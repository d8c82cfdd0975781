"""The one way Gatehouse opens Redis (`REDIS_URL`): the `redis` package's asyncio client.

Retries are off: a lost connection is an error the caller sees, because each caller must act on
it (a frame reader reports a possible gap, a lease renewer counts down to the lease's end); a
retry hidden inside the client would hide a restart that emptied Redis.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import ConnectionPool, Redis
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


def bytes_client(redis: Redis) -> Redis:
    """A client to the same server returning bytes, with a pool of its own (close it with
    `aclose()`): for reading what others wrote, where text that is not UTF-8 must be refused
    by us, not fail inside the client's parser (which then loses its place in the stream)."""
    pool = redis.connection_pool
    kwargs: dict[str, Any] = {**pool.connection_kwargs, "decode_responses": False}
    raw_pool = ConnectionPool(connection_class=pool.connection_class, **kwargs)
    return Redis(connection_pool=raw_pool, auto_close_connection_pool=None)
