"""With several workers: the frames of conversations left alone for FRAME_RETENTION_S, dropped.

One process compacts a conversation's frames when the conversation leaves its memory
(sessions.py). With several workers a conversation is live on every worker that has a socket of
it, and none of them knows when the others are done with its frames. So each worker now and
then compacts every conversation unchanged for the retention time whose turn is not open: its
turns have ended, and a client back after that long gets the history instead of a replay.
Workers doing it at the same moment compact the same rows once (`Store.compact_idle`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Collection

import structlog

from gatehouse.store import Store

log = structlog.get_logger(__name__)

MAX_SWEEP_INTERVAL_S = 300.0


class FrameJanitor:
    def __init__(
        self,
        store: Store,
        open_turns: Callable[[], Awaitable[Collection[str]]],
        retention_s: float,
    ) -> None:
        self._store = store
        self._open_turns = open_turns
        self._retention_s = retention_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="frame-janitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def sweep(self) -> int:
        """Compact the idle conversations now; how many were compacted."""
        open_turns = await self._open_turns()  # read first: a turn opened later is newer
        count = await self._store.compact_idle(time.time() - self._retention_s, open_turns)
        if count:
            log.info("idle_frames_compacted", conversations=count)
        return count

    async def _run(self) -> None:
        interval_s = min(self._retention_s / 2, MAX_SWEEP_INTERVAL_S)
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.sweep()
            except Exception as exc:  # Redis or the database away: the next sweep does it
                log.warning("idle_frames_not_compacted", error=repr(exc))
