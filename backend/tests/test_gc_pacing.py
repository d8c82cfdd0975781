"""Full garbage collections run on the pacer's timer at quiet moments, not whenever the heap
grows, and no middle-generation collection walks young survivors a second time."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatehouse.gc_pacing import applies, collect_fully_every
from tests.model_server import ModelServer
from tests.redis_server import RedisServer
from tests.running_app import AppFactory, RunningApp, start_app

pytestmark = pytest.mark.anyio


@pytest.fixture
def full_collections() -> Iterator[list[int]]:
    """The objects each generation-2 collection found unreachable, while the test runs."""
    seen: list[int] = []

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2:
            seen.append(info["collected"])

    gc.callbacks.append(record)
    yield seen
    gc.callbacks.remove(record)


def grow_the_heap() -> list[list[int]]:
    """Long-lived tracked objects, far more than a quarter of what the test process holds."""
    return [[n] for n in range(max(500_000, len(gc.get_objects())))]


async def test_a_growing_heap_runs_no_full_collection_while_paced(
    full_collections: list[int],
) -> None:
    gc.collect()
    unpaced = grow_the_heap()
    assert full_collections, "the same growth, unpaced, does trigger a full collection"
    del unpaced
    gc.collect()
    full_collections.clear()

    pacer = asyncio.create_task(collect_fully_every(3600))
    await asyncio.sleep(0)  # the pacer sets the thresholds as it starts
    kept = grow_the_heap()
    assert full_collections == []
    pacer.cancel()
    await asyncio.gather(pacer, return_exceptions=True)
    assert len(kept) >= 500_000


async def test_the_timer_runs_full_collections_and_cancelling_restores_the_thresholds() -> None:
    before = gc.get_threshold()
    done = asyncio.Event()

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2:
            done.set()

    gc.callbacks.append(record)
    try:
        pacer = asyncio.create_task(collect_fully_every(0.01))
        await asyncio.wait_for(done.wait(), timeout=10)
        assert gc.get_threshold()[2] > before[2]
        pacer.cancel()
        await asyncio.gather(pacer, return_exceptions=True)
    finally:
        gc.callbacks.remove(record)
    assert gc.get_threshold() == before


def middle_collections_during_churn(cycles: int) -> int:
    """Like the state of many streams: thousands of objects come alive as deltas arrive, then
    die by reference counting. Returns how many generation-1 collections ran meanwhile."""
    middle: list[int] = []

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 1:
            middle.append(1)

    gc.callbacks.append(record)
    try:
        for _ in range(cycles):
            alive = [[n] for n in range(5_000)]
            del alive
    finally:
        gc.callbacks.remove(record)
    return len(middle)


async def test_what_survives_a_young_collection_is_not_walked_again_while_paced() -> None:
    gc.collect()
    unpaced = middle_collections_during_churn(100)
    assert unpaced >= 10, "unpaced, every tenth young collection is followed by a middle one"
    pacer = asyncio.create_task(collect_fully_every(3600))
    await asyncio.sleep(0)
    try:
        paced = middle_collections_during_churn(100)
    finally:
        pacer.cancel()
        await asyncio.gather(pacer, return_exceptions=True)
    assert paced == 0


@pytest.fixture
def full_collection_seen() -> Iterator[asyncio.Event]:
    seen = asyncio.Event()

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2:
            seen.set()

    gc.callbacks.append(record)
    yield seen
    gc.callbacks.remove(record)


async def test_a_due_collection_waits_until_no_reply_is_running(
    full_collection_seen: asyncio.Event,
) -> None:
    replying = True
    polls = 0
    polled_while_busy = asyncio.Event()

    def quiet() -> bool:
        nonlocal polls
        polls += 1
        if polls == 3:
            polled_while_busy.set()
        return not replying

    pacer = asyncio.create_task(collect_fully_every(0.001, quiet=quiet, poll_s=0.001))
    try:
        await asyncio.wait_for(polled_while_busy.wait(), timeout=10)
        assert not full_collection_seen.is_set(), "due, but replies are running"
        replying = False
        await asyncio.wait_for(full_collection_seen.wait(), timeout=10)
    finally:
        pacer.cancel()
        await asyncio.gather(pacer, return_exceptions=True)


async def test_a_server_never_quiet_still_collects_after_the_longest_wait(
    full_collection_seen: asyncio.Event,
) -> None:
    never_quiet = asyncio.create_task(
        collect_fully_every(0.001, quiet=lambda: False, longest_wait_s=0.05, poll_s=0.001)
    )
    try:
        await asyncio.wait_for(full_collection_seen.wait(), timeout=10)
    finally:
        never_quiet.cancel()
        await asyncio.gather(never_quiet, return_exceptions=True)


def _pacing_decisions(app: RunningApp) -> list[bool]:
    return [e["enabled"] for e in app.log_events() if e.get("event") == "gc_pacing"]


def test_serve_paces_collection_where_it_applies_unless_gc_pacing_is_off(
    app: RunningApp, app_factory: AppFactory
) -> None:
    assert _pacing_decisions(app) == [applies()]
    assert _pacing_decisions(app_factory(GC_PACING="false")) == [False]


def test_each_worker_of_serve_workers_paces_collection(
    model: ModelServer, _run_postgres: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    """uvicorn's supervisor runs its own server in each worker: the app itself starts the
    pacing, so every worker that started paces."""
    workers = start_app(
        model,
        tmp_path,
        "--workers",
        "2",
        DATABASE_URL=_run_postgres,
        REDIS_URL=redis_server.url,
    )
    workers.stop()
    started = [e for e in workers.log_events() if e.get("event") == "server_ready"]
    assert started
    assert _pacing_decisions(workers) == [applies()] * len(started)
