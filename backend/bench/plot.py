"""latency.png: added latency per chunk against concurrency (matplotlib, headless)."""

# matplotlib's annotations leave **kwargs untyped
# pyright: reportUnknownMemberType=false

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import stats

JsonDict = dict[str, Any]


def latency_plot(results: JsonDict, path: Path, limits_ms: tuple[float, ...]) -> None:
    """p50 and p99 added latency against concurrency, ours and the baseline, log-log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for name, style in (("ours", "-"), ("baseline", "--")):
        levels = {int(k): v for k, v in results[name]["levels"].items()}
        for step in results[name]["ramp"]:
            levels.setdefault(step["conversations"], step)
        xs = sorted(levels)
        for q, marker in (("p50", "o"), ("p99", "s")):
            ys = [levels[x]["latency_ms"][q] for x in xs]
            ax.plot(xs, ys, style, marker=marker, label=f"{name} {q}")
            cut = [(x, y) for x, y in zip(xs, ys, strict=True) if stats.saturated(levels[x])]
            if cut:
                ax.plot(*zip(*cut, strict=True), "x", color="black", markersize=10)
    for limit in limits_ms:
        ax.axhline(limit, color="grey", linewidth=0.8, linestyle=":")
        ax.text(1, limit * 1.1, f"{limit:g} ms", color="grey", fontsize=8)
    ax.plot([], [], "x", color="black", label="saturated: errors or cut short")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("concurrent streaming conversations")
    ax.set_ylabel("added latency per chunk, model send → client receive (ms)")
    cfg = results["config"]
    ax.set_title(f"Gatehouse vs bare SDK relay ({cfg['gap_ms']:g} ms between deltas)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
