"""Garbage collection paced for a server that holds hundreds of streams open.

CPython (3.11) runs a full collection whenever the objects promoted since the last one reach
a quarter of the long-lived heap. Each stream keeps a chain of suspended coroutines, tasks and
buffers alive for a whole reply, so with hundreds of streams that happens every few seconds,
and each full collection walks every tracked object: 34–140 ms with every socket stalled, at
500 streams (bench/results/FINDINGS.md). So objects loaded at start-up are frozen out of the
collector, automatic full collections are turned off, and one runs on a timer instead; the
cyclic garbage a full collection finds is small (a few thousand objects per 25 s at 500
streams), so little memory waits for the timer.

The timer's collection still walks everything a thousand open streams hold (about 300,000
objects, 160–290 ms with the loop stopped). So once it is due it waits for a quiet moment,
when no reply is running, and runs anyway after `LONGEST_WAIT_S`: under a load that never
pauses, that is one such stall every ten minutes instead of one a minute.

Young collections run as usual; the middle generation is never collected on its own either.
Every delta of every stream leaves new suspended state (futures, coroutines, timer handles)
that lives until the next delta, 100 ms later, and then dies by reference counting. A young
collection walks it once and promotes it; the middle collection walked it a second time, and
the two were about a seventh of the process's CPU at 1,000 streams. Raising the young
threshold instead made the collections that do run walk hundreds of thousands of objects
when a thousand replies start together (pauses of 130 ms young, 370 ms middle, measured).

All of this is about CPython's three-generation collector (3.11 to 3.13; measured on 3.11).
CPython 3.14 collects the old generation incrementally, with other thresholds, so there (and
on other interpreters) nothing is changed. `gatehouse serve` turns it on (`GC_PACING`).
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable

FULL_COLLECTION_INTERVAL_S = 60.0
LONGEST_WAIT_S = 600.0  # a due collection runs after this even if the server is never quiet
QUIET_POLL_S = 0.5
_NEVER = 1 << 30  # a threshold that automatic collection never reaches


def applies() -> bool:
    """Whether this interpreter has the collector the pacing was made for."""
    return sys.implementation.name == "cpython" and sys.version_info[:2] < (3, 14)


def start(quiet: Callable[[], bool]) -> asyncio.Task[None]:
    """Freeze what start-up loaded and run the paced full collections until cancelled."""
    freeze_start_up()
    return asyncio.create_task(collect_fully_every(quiet=quiet), name="gc-pacing")


def freeze_start_up() -> None:
    """Move everything alive now (modules, clients, settings) out of every future collection."""
    gc.collect()
    gc.freeze()


async def collect_fully_every(
    interval_s: float = FULL_COLLECTION_INTERVAL_S,
    *,
    quiet: Callable[[], bool] = lambda: True,
    longest_wait_s: float = LONGEST_WAIT_S,
    poll_s: float = QUIET_POLL_S,
) -> None:
    """Run full collections on a timer, not when the heap grows, each at the first moment
    `quiet()` says so once due (or `longest_wait_s` after); until cancelled."""
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, _NEVER, _NEVER)
    loop = asyncio.get_running_loop()
    try:
        while True:
            await asyncio.sleep(interval_s)
            deadline = loop.time() + longest_wait_s
            while not quiet() and loop.time() < deadline:
                await asyncio.sleep(poll_s)
            gc.collect()
    finally:
        gc.set_threshold(young, middle, full)
