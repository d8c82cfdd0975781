"""Numbers from raw samples: percentiles, the steady window, overlap, CPU between two times."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

NS_PER_MS = 1_000_000


def percentiles_ms(samples_ns: Sequence[int]) -> dict[str, float]:
    """p50/p90/p99/p99.9/max/mean in milliseconds (nearest rank); NaN when there are none."""
    if not samples_ns:
        return {k: math.nan for k in ("p50", "p90", "p99", "p999", "max", "mean", "n")}
    ordered = sorted(samples_ns)
    n = len(ordered)

    def rank(q: float) -> float:
        return ordered[min(n - 1, max(0, math.ceil(q * n) - 1))] / NS_PER_MS

    return {
        "p50": rank(0.50),
        "p90": rank(0.90),
        "p99": rank(0.99),
        "p999": rank(0.999),
        "max": ordered[-1] / NS_PER_MS,
        "mean": sum(ordered) / n / NS_PER_MS,
        "n": n,
    }


def steady_window(spans: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """From the last conversation's first chunk to the first conversation's last chunk: the
    time when every conversation was streaming. None when they never all overlapped."""
    live = [s for s in spans if s[0] and s[1]]
    if not live:
        return None
    start, end = max(s[0] for s in live), min(s[1] for s in live)
    return (start, end) if end > start else None


def max_overlap(spans: Sequence[tuple[int, int]]) -> int:
    """The most conversations streaming at one instant (first chunk to last chunk)."""
    edges = sorted([(s[0], 1) for s in spans if s[0]] + [(s[1], -1) for s in spans if s[1]])
    best = live = 0
    for _, step in edges:
        live += step
        best = max(best, live)
    return best


def saturated(level: dict[str, Any]) -> bool:
    """A level cut short or failing: its latencies describe only the chunks that arrived."""
    return bool(level["errors"]) or level["achieved_concurrency"] < 0.99 * level["conversations"]


@dataclass(frozen=True)
class CpuSample:
    at_ns: int
    target: float
    model: float
    loadgen: float
    system_busy: float  # every core's busy time, seconds


def cpu_between(samples: Sequence[CpuSample], start_ns: int, end_ns: int) -> CpuSample:
    """CPU seconds used between two times, interpolated between the nearest samples."""

    def at(t: int) -> CpuSample:
        times = [s.at_ns for s in samples]
        i = min(max(bisect_left(times, t), 1), len(samples) - 1)
        a, b = samples[i - 1], samples[i]
        f = 0.0 if b.at_ns == a.at_ns else min(1.0, max(0.0, (t - a.at_ns) / (b.at_ns - a.at_ns)))
        return CpuSample(
            t,
            a.target + f * (b.target - a.target),
            a.model + f * (b.model - a.model),
            a.loadgen + f * (b.loadgen - a.loadgen),
            a.system_busy + f * (b.system_busy - a.system_busy),
        )

    lo, hi = at(start_ns), at(end_ns)
    return CpuSample(
        end_ns - start_ns,
        hi.target - lo.target,
        hi.model - lo.model,
        hi.loadgen - lo.loadgen,
        hi.system_busy - lo.system_busy,
    )
