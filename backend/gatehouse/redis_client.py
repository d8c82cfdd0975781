"""The one way Gatehouse opens Redis (`REDIS_URL`): the `redis` package's asyncio client.

Commands are tried once more, at once, on a new connection when the connection fails (a
pooled connection to a Redis that restarted fails on its first use); the callers make that
retry harmless (frame_bus.publish, turn_lease.acquire). What must see every lost connection
(a frame reader, which reports a possible gap; a control listener, which subscribes again)
reads on a `reader_client` of its own, which never retries.

Commands share a bounded pool and wait for a free connection when all are in use: a burst
(hundreds of turns renewing their leases at once) queues for a moment instead of failing
with "Too many connections", which the `redis` package's default pool of 100 raises.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

# Longer than any blocking read (frame_bus.BLOCK_MS), so only a dead connection times out.
SOCKET_TIMEOUT_S = 15.0
CONNECT_TIMEOUT_S = 5.0
POOL_SIZE = 64  # connections per process for commands (readers have their own)
POOL_WAIT_S = 5.0  # longest wait for a pooled connection before the command fails


def connect(url: str) -> Redis:
    """A client on `url` (redis://, rediss:// or unix://) that returns str, never bytes."""
    pool = BlockingConnectionPool.from_url(  # pyright: ignore[reportUnknownMemberType]
        url,
        max_connections=POOL_SIZE,
        timeout=POOL_WAIT_S,
        decode_responses=True,
        retry=Retry(NoBackoff(), 1),
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        health_check_interval=10,
    )
    return Redis.from_pool(pool)  # pyright: ignore[reportUnknownMemberType]


def reader_client(redis: Redis) -> Redis:
    """A client to the same server on one connection of its own (close it with `aclose()`),
    returning bytes and never retrying: a lost connection is an error its reader acts on, and
    text that is not UTF-8 is refused by the reader, not by the client's parser (which then
    loses its place in the stream)."""
    pool = redis.connection_pool
    kwargs: dict[str, Any] = {
        **pool.connection_kwargs,
        "decode_responses": False,
        "retry": Retry(NoBackoff(), 0),
    }
    own_pool = ConnectionPool(connection_class=pool.connection_class, **kwargs)
    return Redis(connection_pool=own_pool, single_connection_client=True)
