"""A/B: the same streaming level against several copies of the app, alternating, to try a change.

    cd backend && ../.venv/bin/python -m bench.compare --app /tmp/a --app /tmp/b [--rounds 2]
        [--levels-per-process 3]

Each `--app` is a folder holding a `gatehouse` package (a scratch copy with one change); the
installed package is used for `--app installed`, and `--app baseline-same` is the bare relay
on the app's SDK path (`bench/baseline.py --sdk-path same`), the floor the app is measured
against. Runs are interleaved (a, b, a, b…) so a busy machine hurts every variant alike.
Prints, and writes as JSON with `--json`, the CPU per 1,000 chunks, latency and, with
`--idle N`, RSS per idle socket.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import Any, cast

from bench import loadgen, procs, scenarios
from bench.scenarios import JsonDict, Load, Target

log = logging.getLogger("bench.compare")
BASELINE_SAME = "baseline-same"


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument(
        "--app", action="append", required=True, help="folder, `installed` or `baseline-same`"
    )
    parser.add_argument("--conversations", type=int, default=150)
    parser.add_argument("--gap-ms", type=float, default=100.0)
    parser.add_argument("--deltas", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--levels-per-process", type=int, default=1, help="levels in a row in one app process"
    )
    parser.add_argument("--idle", type=int, default=0, help="also RSS per idle socket")
    parser.add_argument("--server-compression", action="store_true", help="WS_COMPRESSION=true")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--json", type=Path, help="write the runs here")
    parser.add_argument("--priority", type=int, default=0, help="nice levels above others (root)")
    return parser.parse_args(argv)


async def _one(app: str, load: Load, args: argparse.Namespace, model: procs.Proc) -> list[JsonDict]:
    """`--levels-per-process` levels against one fresh app process, one after another as
    `make bench` runs them; its work folder is removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="gatehouse-compare-"))
    model_url = f"http://127.0.0.1:{model.port}"
    if app == BASELINE_SAME:
        proc = procs.start_baseline(workdir, model_url, load.server_compression, sdk_path="same")
        target = Target("baseline_same", proc, model)
    else:
        src = None if app == "installed" else Path(app).resolve()
        proc = procs.start_app(workdir, model_url, src, args.log_level, load.server_compression)
        target = Target("ours", proc, model)
    try:
        await scenarios.warm(target, load.compression)
        levels = [
            await scenarios.streaming_level(target, load, args.conversations)
            for _ in range(args.levels_per_process)
        ]
        if args.idle:
            levels[-1]["idle"] = await scenarios.idle_memory(
                target, args.idle, load.compression, load.server_compression
            )
    finally:
        proc.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return levels


def _row(app: str, runs: list[JsonDict]) -> str:
    def med(*path: str) -> float:
        """The median over the runs; NaN when a run lacks it (a saturated level)."""
        values: list[float] = []
        for run in runs:
            node: Any = run
            for key in path:
                node = cast(JsonDict, node).get(key) if isinstance(node, dict) else None
            values.append(math.nan if node is None else float(cast(float, node)))
        return statistics.median(values)

    text = (
        f"{app}: CPU s/1000 chunks {med('cpu', 'target_s_per_1000_chunks'):.3f} "
        f"(steady {med('cpu_steady', 'target_s_per_1000_chunks'):.3f}), "
        f"p50 {med('latency_ms', 'p50'):.2f} ms, p99 {med('latency_ms', 'p99'):.2f} ms, "
        f"TTFC added p50 {med('first_chunk', 'added_ms', 'p50'):.1f} ms, "
        f"{med('errors'):.0f} errors"
    )
    if "idle" in runs[0]:
        text += f", {med('idle', 'kb_per_connection'):.1f} KB per idle socket"
    return text + f"  [{len(runs)} runs]"


async def compare(args: argparse.Namespace) -> dict[str, list[JsonDict]]:
    procs.raise_nofile()
    if args.priority:
        os.nice(-args.priority)
    load = Load(args.gap_ms, args.deltas, 20, 60, "deflate", args.server_compression)
    model_dir = Path(tempfile.mkdtemp(prefix="gatehouse-compare-"))
    model = procs.start_model_server(model_dir)
    runs: dict[str, list[JsonDict]] = {app: [] for app in args.app}
    try:
        procs.script_model(model, load.model_reply(), loadgen.STREAM_TEXT)
        procs.script_model(model, scenarios.WARM_REPLY, loadgen.WARM_TEXT)
        for round_ in range(args.rounds):
            for app in args.app:
                for level in await _one(app, load, args, model):
                    runs[app].append(level)
                    log.info("round %d %s", round_ + 1, _row(app, [level]))
    finally:
        model.stop()
        shutil.rmtree(model_dir, ignore_errors=True)
    for app in args.app:
        log.info("%s", _row(app, runs[app]))
    return runs


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    args = _args(argv)
    runs = procs.run_on_uvloop(compare(args))
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2) + "\n")


if __name__ == "__main__":
    main()
