"""`make bench`: Gatehouse and the bare-SDK baseline under the same load; results in bench/results/.

    cd backend && ../.venv/bin/python -m bench.run [--quick] [--gap-ms 100] [--app-src DIR] ...

One model server process, then for each relay (ours, then the baseline): the concurrency
levels, the ramp, the 1 MiB create_file (ours), and idle sockets in a fresh process. Every
wait has a deadline; every process started here is stopped here.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib.metadata
import logging
import os
import platform
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import loadgen, procs, report, scale_out, scenarios
from bench.scenarios import JsonDict, Load, Target

REPO = procs.BACKEND.parent
log = logging.getLogger("bench")


@dataclass(frozen=True)
class Config:
    load: Load
    levels: list[int]
    ramp: list[int]
    idle_sockets: int
    file_bytes: int
    file_runs: int
    log_level: str
    app_src: Path | None
    ramp_budget_s: float
    wait_quiet_s: float
    priority: int
    out: Path
    scale: scale_out.ScaleConfig | None  # None: no scale-out section


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--gap-ms", type=float, default=100.0, help="between text deltas")
    parser.add_argument("--deltas", type=int, default=150, help="text deltas per reply")
    parser.add_argument("--min-bytes", type=int, default=20)
    parser.add_argument("--max-bytes", type=int, default=60)
    parser.add_argument("--levels", default="1,50,200,1000", help="concurrency levels")
    parser.add_argument("--ramp", default="100,250,350,500,750,1000,1500,2000,3000")
    parser.add_argument("--idle", type=int, default=5000, help="idle sockets")
    parser.add_argument("--file-bytes", type=int, default=1 << 20)
    parser.add_argument(
        "--server-compression",
        action="store_true",
        help="relays accept permessage-deflate (WS_COMPRESSION=true; clients always offer it)",
    )
    parser.add_argument("--log-level", default="warning", help="LOG_LEVEL of the app")
    parser.add_argument("--app-src", type=Path, help="a folder holding a scratch `gatehouse`")
    parser.add_argument(
        "--ramp-min", type=float, default=2.5, help="no new ramp step after this, per relay"
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument(
        "--wait-quiet-min",
        type=float,
        default=0.0,
        help="first wait (at most this long) until other programs leave the cores idle",
    )
    parser.add_argument(
        "--priority",
        type=int,
        default=0,
        metavar="N",
        help="run the bench and its processes N nice levels above other programs (root)",
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run (~2 min)")
    parser.add_argument(
        "--skip-scale-out",
        action="store_true",
        help="leave out the scale-out section (workers on PostgreSQL + Redis, bench/scale_out.py)",
    )
    scale_out.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.deltas, args.gap_ms = 40, 50.0
        args.levels, args.ramp, args.idle = "1,20,50", "100", 300
    load = Load(
        args.gap_ms,
        args.deltas,
        args.min_bytes,
        args.max_bytes,
        "deflate",
        args.server_compression,
    )
    app_src = args.app_src.resolve() if args.app_src else None
    scale = scale_out.config(
        load,
        quick=args.quick,
        ramp_text=args.scale_ramp,
        lease_ms=args.lease_ms,
        log_level=args.log_level,
        app_src=app_src,
        ramp_min=args.scale_ramp_min,
    )
    return Config(
        load=load,
        levels=_counts(args.levels),
        ramp=_counts(args.ramp),
        idle_sockets=args.idle,
        file_bytes=args.file_bytes,
        file_runs=3,
        log_level=args.log_level,
        app_src=app_src,
        ramp_budget_s=args.ramp_min * 60,
        wait_quiet_s=args.wait_quiet_min * 60,
        priority=args.priority,
        out=args.out,
        scale=None if args.skip_scale_out else scale,
    )


def _counts(text: str) -> list[int]:
    return sorted({int(v) for v in text.split(",") if v.strip()})


def _script(model: procs.Proc, cfg: Config) -> None:
    procs.script_model(model, cfg.load.model_reply(), loadgen.STREAM_TEXT)
    procs.script_model(model, scenarios.WARM_REPLY, loadgen.WARM_TEXT)
    content = ("0123456789abcdef" * (cfg.file_bytes // 16 + 1))[: cfg.file_bytes]
    use = {
        "id": "toolu_bench",
        "name": "create_file",
        "input": {"path": "1mb.txt", "content": content},
    }
    procs.script_model(model, {"tool_uses": [use]}, loadgen.FILE_TEXT)


class Bench:
    def __init__(self, cfg: Config, workdir: Path) -> None:
        self.cfg = cfg
        self.workdir = workdir
        self.started = time.monotonic()

    def start(self, name: str, model: procs.Proc, compression: bool) -> Target:
        url = f"http://127.0.0.1:{model.port}"
        if name == "ours":
            app_src, level = self.cfg.app_src, self.cfg.log_level
            proc = procs.start_app(self.workdir, url, app_src, level, compression)
        elif name == "baseline_same":
            proc = procs.start_baseline(self.workdir, url, compression, sdk_path="same")
        else:
            proc = procs.start_baseline(self.workdir, url, compression)
        return Target(name, proc, model)

    async def measure_levels(self, name: str, model: procs.Proc, levels: list[int]) -> JsonDict:
        """Only some streaming levels (no ramp, no idle sockets), for a second reference."""
        target = self.start(name, model, self.cfg.load.server_compression)
        try:
            await scenarios.warm(target, self.cfg.load.compression)
            return {"levels": {str(n): await self._level(target, n) for n in levels}}
        finally:
            target.proc.stop()

    async def measure(self, name: str, model: procs.Proc) -> JsonDict:
        out: JsonDict = {"levels": {}, "ramp": []}
        target = self.start(name, model, self.cfg.load.server_compression)
        try:
            await scenarios.warm(target, self.cfg.load.compression)
            for n in self.cfg.levels:
                out["levels"][str(n)] = await self._level(target, n)
            out["ramp"], out["max_streams"], out["max_chunks_per_s"] = await self._ramp(
                target, out["levels"]
            )
            if name == "ours":
                out["file"] = await scenarios.file_transfer(
                    target, self.cfg.file_bytes, self.cfg.load.compression, self.cfg.file_runs
                )
                log.info("[ours] 1 MiB create_file: %s", out["file"])
        finally:
            target.proc.stop()
        out["idle"] = {}
        for compression in (False, True):  # clients offer deflate; does the relay accept it?
            target = self.start(name, model, compression)
            try:
                idle = await scenarios.idle_memory(
                    target, self.cfg.idle_sockets, self.cfg.load.compression, compression
                )
            finally:
                target.proc.stop()
            log.info("[%s] idle: %s", name, idle)
            out["idle"]["on" if compression else "off"] = idle
        return out

    async def _level(self, target: Target, n: int) -> JsonDict:
        started = time.monotonic()
        level = await scenarios.streaming_level(target, self.cfg.load, n)
        level["passed"] = scenarios.passes(level, report.RAMP_P99_MS)
        lat = level["latency_ms"]
        log.info(
            "[%s] %d conversations: p50 %.2f ms, p99 %.2f ms, %d chunks, %.0f chunks/s, "
            "%s CPU s/1000 chunks, %d streaming at once, %d errors (%.0f s)",
            target.name,
            n,
            lat["p50"],
            lat["p99"],
            level["chunks"],
            level["steady_chunks_per_s"],
            _fmt(level["cpu"]["target_s_per_1000_chunks"]),
            level["achieved_concurrency"],
            level["errors"],
            time.monotonic() - started,
        )
        return level

    async def _ramp(
        self, target: Target, levels: dict[str, JsonDict]
    ) -> tuple[list[JsonDict], int | None, float | None]:
        steps: list[JsonDict] = []
        best: tuple[int, float] | None = None
        deadline = time.monotonic() + self.cfg.ramp_budget_s
        for n in sorted(set(self.cfg.ramp) | {int(k) for k in levels}):
            level = levels.get(str(n))
            tries = 0 if level is None else 1
            while level is None or (not level["passed"] and tries < 2):  # a failure must repeat
                if time.monotonic() > deadline:
                    log.warning("[%s] ramp stopped at %d: time budget spent", target.name, n)
                    return steps, best and best[0], best and best[1]
                level = await self._level(target, n)
                tries += 1
            steps.append(level)
            if not level["passed"]:
                break
            best = (n, level["steady_chunks_per_s"])
        return steps, best and best[0], best and best[1]


async def _scale_out(cfg: Config, workdir: Path, model: procs.Proc) -> JsonDict | None:
    """The scale-out section; when it fails, the rest of the run is kept and the table says so."""
    if cfg.scale is None:
        return None
    try:
        return await scale_out.measure(cfg.scale, workdir, model)
    except Exception as exc:
        log.exception("scale-out section failed")
        return {"error": repr(exc)[:300]}


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _commit() -> str:
    """The checkout under test, read when the run starts (the tree may change during it)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout

    commit = git("describe", "--always").strip() or "unknown"
    changed = git("status", "--porcelain", "--", "backend/gatehouse").strip()
    return commit + (" with uncommitted changes to backend/gatehouse" if changed else "")


def _meta(
    started: datetime.datetime, commit: str, load_start: list[float], minutes: float
) -> JsonDict:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "absent"

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "date": started.isoformat(timespec="seconds"),
        "commit": commit,
        "cpu": cpu,
        "cores": len(Path("/proc/cpuinfo").read_text().split("processor")) - 1,
        "python": platform.python_version(),
        "packages": {
            p: version(p) for p in ("anthropic", "websockets", "uvicorn", "uvloop", "pydantic")
        },
        "loadavg_start": load_start,
        "loadavg_end": procs.load_average(),
        "duration_min": minutes,
    }


async def wait_quiet(limit_s: float, busy_share: float = 0.1, window_s: float = 10.0) -> float:
    """Wait until the machine's cores are under `busy_share` busy over `window_s`; bounded."""
    began = time.monotonic()
    cores = os.cpu_count() or 1
    while time.monotonic() - began < limit_s:
        before = procs.system_busy_seconds()
        await asyncio.sleep(window_s)
        share = (procs.system_busy_seconds() - before) / window_s / cores
        if share < busy_share:
            break
        log.info("waiting for a quiet machine: cores %.0f%% busy", 100 * share)
    return time.monotonic() - began


async def bench(cfg: Config) -> JsonDict:
    if cfg.priority:
        os.nice(-cfg.priority)  # the processes started below inherit it
    waited_s = await wait_quiet(cfg.wait_quiet_s) if cfg.wait_quiet_s else 0.0
    started = datetime.datetime.now(datetime.UTC)
    commit = _commit()
    load_start = procs.load_average()
    nofile = procs.raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="gatehouse-bench-"))
    log.info("work folder %s, RLIMIT_NOFILE %d", workdir, nofile)
    runner = Bench(cfg, workdir)
    model = procs.start_model_server(workdir)
    try:
        _script(model, cfg)
        ours = await runner.measure("ours", model)
        baseline = await runner.measure("baseline", model)
        same_path = [n for n in cfg.levels if n in (50, 200)] or cfg.levels[:1]
        baseline_same = await runner.measure_levels("baseline_same", model, same_path)
        section = await _scale_out(cfg, workdir, model)
    finally:
        model.stop()
        procs.tidy(workdir)  # the logs stay, for a look at any errors
    levels = cfg.levels
    return {
        "meta": {
            **_meta(started, commit, load_start, (time.monotonic() - runner.started) / 60),
            "waited_for_quiet_s": waited_s,
            "nice": os.nice(0),
        },
        "config": {
            "gap_ms": cfg.load.gap_ms,
            "deltas": cfg.load.deltas,
            "min_bytes": cfg.load.min_bytes,
            "max_bytes": cfg.load.max_bytes,
            "server_compression": cfg.load.server_compression,
            "levels": levels,
            "ramp": cfg.ramp,
            "ttfc_level": 50 if 50 in levels else levels[len(levels) // 2],
            "cpu_level": 50 if 50 in levels else levels[len(levels) // 2],
            "log_level": cfg.log_level,
            "app_src": str(cfg.app_src) if cfg.app_src else None,
            "workdir": str(workdir),
        },
        "ours": ours,
        "baseline": baseline,
        "baseline_same": baseline_same,
        **({"scale_out": section} if section else {}),
    }


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    cfg = parse_args(argv)
    results = procs.run_on_uvloop(bench(cfg))
    report.write(results, cfg.out)
    log.info("wrote %s", cfg.out)
    log.info("\n%s", report.markdown(results).split("## What was measured")[0])


if __name__ == "__main__":
    main()
