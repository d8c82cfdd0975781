"""The measurements, one function each: a streaming level, idle sockets, the 1 MB file.

Each returns a plain dict (it goes into results.json as is); times are in ms, CPU in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import statistics
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from bench import loadgen, procs, stats
from bench.loadgen import Compression, Crowd
from bench.procs import Proc

JsonDict = dict[str, Any]
NS_PER_MS = 1_000_000
SAMPLE_S = 0.25


@dataclass(frozen=True)
class Load:
    """What the model streams and how the clients ask."""

    gap_ms: float
    deltas: int
    min_bytes: int
    max_bytes: int
    compression: Compression  # what the clients offer: browsers offer permessage-deflate
    server_compression: bool = False  # whether the relays accept it (the app's default: no)

    @property
    def reply_s(self) -> float:
        return self.deltas * self.gap_ms / 1000

    def plan(self, conversations: int) -> tuple[int, float]:
        """Replies per conversation, and the time over which the first asks spread (at random):
        half a reply, so every conversation streams at once for the second half."""
        if conversations == 1:
            return 2, 0.0  # more samples; nothing to overlap
        return 1, self.reply_s / 2

    def model_reply(self) -> JsonDict:
        deltas = {"count": self.deltas, "min_bytes": self.min_bytes, "max_bytes": self.max_bytes}
        return {"deltas": deltas, "stamp": True, "delay_ms": self.gap_ms}


@dataclass(frozen=True)
class Target:
    """The relay under test ("ours" or "baseline") and the model server behind it."""

    name: str
    proc: Proc
    model: Proc

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.proc.port}/ws"


@contextlib.asynccontextmanager
async def cpu_sampler(target: Target) -> AsyncGenerator[list[stats.CpuSample]]:
    """Samples every process's CPU a few times a second while the block runs."""
    samples: list[stats.CpuSample] = []

    def sample() -> None:
        samples.append(
            stats.CpuSample(
                time.time_ns(),
                target.proc.cpu_seconds(),
                target.model.cpu_seconds(),
                time.process_time(),
                procs.system_busy_seconds(),
            )
        )

    async def loop() -> None:
        while True:
            await asyncio.sleep(SAMPLE_S)
            sample()

    sample()
    task = asyncio.create_task(loop())
    try:
        yield samples
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        sample()


def _cpu_dict(cpu: stats.CpuSample, chunks: int) -> JsonDict:
    wall = cpu.at_ns / 1e9
    ours = cpu.target + cpu.model + cpu.loadgen
    return {
        "wall_s": wall,
        "target_s": cpu.target,
        "target_s_per_1000_chunks": 1000 * cpu.target / chunks if chunks else None,
        "target_cores": cpu.target / wall if wall else None,
        "model_server_cores": cpu.model / wall if wall else None,
        "load_generator_cores": cpu.loadgen / wall if wall else None,
        "other_processes_cores": max(0.0, cpu.system_busy - ours) / wall if wall else None,
    }


WARM_REPLY: JsonDict = {"deltas": {"count": 20}, "stamp": True, "delay_ms": 5}


async def warm(target: Target, compression: Compression) -> None:
    """A few short replies first: lazy imports, the first HTTP connections, caches."""
    crowd = Crowd(target.url, compression, loadgen.WARM_TEXT)
    await crowd.open(8)
    await crowd.stream(1, 0.1, 30)
    await crowd.close()
    await procs.quiesce(target.proc)


async def streaming_level(target: Target, load: Load, conversations: int) -> JsonDict:
    """`conversations` sockets streaming replies at once; latency, first chunk, CPU."""
    crowd = Crowd(target.url, load.compression)
    await crowd.open(conversations)
    replies, stagger_s = load.plan(conversations)
    timeout_s = stagger_s + replies * load.reply_s + 15  # past it the level is saturated: cut
    try:
        async with cpu_sampler(target) as samples:
            result = await crowd.stream(replies, stagger_s, timeout_s)
    finally:
        await crowd.close()
    await procs.quiesce(target.proc)
    return summarize_level(result, samples, crowd.errors)


def summarize_level(
    result: loadgen.StreamResult, samples: list[stats.CpuSample], connect_errors: list[str]
) -> JsonDict:
    window = stats.steady_window(result.spans)
    if window is not None:
        start, end = window
        chosen = [
            lat
            for at, lat in zip(result.received_ns, result.latency_ns, strict=True)
            if start <= at <= end
        ]
        steady_chunks = len(chosen)
        steady_cpu = _cpu_dict(stats.cpu_between(samples, start, end), steady_chunks)
    else:
        chosen, steady_chunks, steady_cpu = list(result.latency_ns), 0, None
    whole = stats.cpu_between(samples, samples[0].at_ns, samples[-1].at_ns)
    errors = connect_errors + result.errors
    return {
        "conversations": result.conversations,
        "replies_per_conversation": result.replies,
        "chunks": result.chunks,
        "achieved_concurrency": stats.max_overlap(result.spans),
        "steady_window_s": (window[1] - window[0]) / 1e9 if window else 0.0,
        "steady_chunks_per_s": steady_chunks / ((window[1] - window[0]) / 1e9) if window else 0.0,
        "latency_ms": stats.percentiles_ms(chosen),
        "latency_all_chunks_ms": stats.percentiles_ms(result.latency_ns),
        "first_chunk": _first_chunk(result.firsts),
        "cpu": _cpu_dict(whole, result.chunks),
        "cpu_steady": steady_cpu,
        "errors": len(errors),
        "error_samples": errors[:5],
    }


def _first_chunk(firsts: list[loadgen.FirstChunk]) -> JsonDict:
    """Time to first chunk as the client sees it, and the model server's own share of it."""
    return {
        "client_ms": stats.percentiles_ms([f.first_received_ns - f.user_sent_ns for f in firsts]),
        "model_own_ms": stats.percentiles_ms(
            [f.first_sent_ns - f.request_received_ns for f in firsts]
        ),
        "added_ms": stats.percentiles_ms(
            [
                (f.first_received_ns - f.user_sent_ns) - (f.first_sent_ns - f.request_received_ns)
                for f in firsts
            ]
        ),
        "request_path_ms": stats.percentiles_ms(
            [f.request_received_ns - f.user_sent_ns for f in firsts]
        ),
        "first_relay_ms": stats.percentiles_ms(
            [f.first_received_ns - f.first_sent_ns for f in firsts]
        ),
    }


def passes(level: JsonDict, p99_limit_ms: float) -> bool:
    """A ramp step holds when every conversation streamed at once, error-free, under the limit."""
    return (
        not stats.saturated(level)
        and level["steady_window_s"] > 0
        and level["latency_ms"]["p99"] < p99_limit_ms
    )


async def idle_memory(
    target: Target, sockets: int, compression: Compression, server_compression: bool
) -> JsonDict:
    """RSS of the relay before and after `sockets` idle chat sockets, per socket."""
    warm = Crowd(target.url, compression)
    await warm.open(32)  # first-use imports and caches are not per connection
    await warm.close()
    await procs.quiesce(target.proc)
    gc.collect()
    before = target.proc.rss_bytes()
    crowd = Crowd(target.url, compression)
    started = time.perf_counter()
    try:
        await crowd.open(sockets)
        opened_s = time.perf_counter() - started
        await asyncio.sleep(1.0)
        await procs.quiesce(target.proc)
        after = target.proc.rss_bytes()
        opened = len(crowd.sockets)
    finally:
        await crowd.close()
    await procs.quiesce(target.proc)
    return {
        "sockets": opened,
        "server_compression": server_compression,
        "rss_before_mb": before / 2**20,
        "rss_after_mb": after / 2**20,
        "rss_after_close_mb": target.proc.rss_bytes() / 2**20,
        "kb_per_connection": (after - before) / 1024 / opened if opened else None,
        "open_s": opened_s,
        "errors": len(crowd.errors),
        "error_samples": crowd.errors[:5],
    }


async def file_transfer(target: Target, size: int, compression: Compression, runs: int) -> JsonDict:
    """Approve the scripted create_file of `size` bytes; approval → last tool_chunk."""
    results = [await loadgen.file_transfer(target.url, size, compression) for _ in range(runs)]
    to_last = [r.approval_to_last_chunk_s * 1000 for r in results]
    return {
        "bytes": size,
        "runs": runs,
        "tool_chunks": results[0].chunks,
        "approval_to_last_chunk_ms": statistics.median(to_last),
        "approval_to_last_chunk_ms_each": to_last,
        "request_to_tool_request_ms": statistics.median(r.request_s * 1000 for r in results),
        "approval_to_completed_ms": statistics.median(
            r.approval_to_completed_s * 1000 for r in results
        ),
    }
