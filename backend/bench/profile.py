"""Where the app's time goes per relayed chunk: py-spy on the server under a streaming load.

    cd backend && ../.venv/bin/python -m bench.profile [--conversations 150] [--app-src DIR]

Starts the model server and the app, streams `--conversations` replies at once (the same load
as `bench.run`), and records the app with `py-spy record --nonblocking` over the steady part.
Writes to bench/results/profile/: `<name>.speedscope.json` (open in https://speedscope.app)
and `<name>.md` (time by area, self and inclusive time by function).
Not part of `make bench`: it needs py-spy and ptrace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench import loadgen, procs, scenarios
from bench.scenarios import JsonDict, Load, Target

log = logging.getLogger("bench.profile")
PY_SPY = Path(sys.executable).parent / "py-spy"

# Areas, in priority order: a stack counts for the first area any of its frames matches.
_AREA_PATTERNS = [
    ("structlog", r"/structlog/"),
    ("prometheus metrics", r"/prometheus_client/"),
    ("frame log (store, SQLAlchemy, aiosqlite)", r"gatehouse/store\.py|/sqlalchemy/|/aiosqlite/"),
    ("SDK accumulate (message snapshot)", r"accumulate_event"),
    (
        "HTTP client read (aiohttp, httpx2, httpcore2, anyio, h11)",
        r"/aiohttp/|/httpx_aiohttp/|/httpx2/|/anyio/|/h11/|/httpcore",
    ),
    ("SDK SSE decode + event models", r"/anthropic/"),
    ("frame encode (pydantic)", r"gatehouse/protocol\.py|model_copy|model_dump_json|/pydantic/"),
    ("WebSocket send (starlette, uvicorn, websockets)", r"/starlette/|/uvicorn/|/websockets/"),
    ("gatehouse (other)", r"/gatehouse/"),
    ("asyncio (tasks, queues, events)", r"/asyncio/|uvloop"),
]
# Frames every main-thread stack starts with; a stack of only these is the loop's own C code.
_ROOTS = re.compile(
    r"<frozen runpy>|gatehouse/(__main__|cli)\.py|bench/baseline\.py|uvicorn/(server|_compat|main)"
    r"\.py|asyncio/(runners|base_events|events)\.py|uvloop/__init__\.py"
)
EVENT_LOOP = "event loop itself (uvloop C code: I/O, callbacks)"
AREAS = [(name, re.compile(pattern)) for name, pattern in _AREA_PATTERNS]


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--conversations", type=int, default=150)
    parser.add_argument("--gap-ms", type=float, default=100.0)
    parser.add_argument("--deltas", type=int, default=300, help="a longer steady part")
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--server-compression", action="store_true", help="WS_COMPRESSION=true")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--app-src", type=Path, help="a folder holding a scratch `gatehouse`")
    parser.add_argument("--baseline", action="store_true", help="profile the baseline relay")
    parser.add_argument("--sdk-path", choices=("helper", "same"), default="helper")
    parser.add_argument(
        "--whole", action="store_true", help="every reply whole, start-ups and ends included"
    )
    parser.add_argument("--priority", type=int, default=0, help="nice levels above others (root)")
    parser.add_argument("--name", default="profile", help="output file names")
    parser.add_argument("--out", type=Path, default=procs.BACKEND.parent / "bench/results/profile")
    return parser.parse_args(argv)


async def _record(pid: int, seconds: float, rate: int, path: Path) -> None:
    argv = [str(PY_SPY), "record", "--pid", str(pid), "--duration", str(int(seconds))]
    argv += ["--rate", str(rate), "--nonblocking", "--format", "speedscope", "-o", str(path)]
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), seconds + 30)
    if process.returncode != 0:
        raise RuntimeError(f"py-spy failed: {err.decode()[-500:]}")


def collapsed(speedscope: JsonDict) -> Counter[str]:
    """`root;…;leaf` → number of samples, over every thread of a py-spy speedscope file."""
    frames = [
        f"{f['name']} ({f.get('file', '?')}:{f.get('line', 0)})"
        for f in speedscope["shared"]["frames"]
    ]
    stacks: Counter[str] = Counter()
    for profile in speedscope["profiles"]:
        samples: list[list[int]] = profile["samples"]
        weights: list[int] = profile["weights"]
        for sample, weight in zip(samples, weights, strict=True):
            stacks[";".join(frames[i] for i in sample)] += 1 if weight else 0
    return stacks


def _function(frame: str) -> str:
    """`name (…/site-packages/pkg/mod.py:12)` → `name (pkg/mod.py)`."""
    frame = re.sub(r":\d+\)$", ")", frame)
    return re.sub(r"\(.*/(site-packages|python3\.\d+|backend|gh_snap)/", "(", frame)


def _area(stack: str) -> str:
    frames = [frame for frame in stack.split(";") if not _ROOTS.search(frame)]
    if not frames:
        return EVENT_LOOP
    rest = ";".join(frames)
    for name, pattern in AREAS:
        if pattern.search(rest):
            return name
    return "other"


def summary(stacks: Counter[str], level: JsonDict, args: argparse.Namespace) -> str:
    total = sum(stacks.values()) or 1
    by_area: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for stack, n in stacks.items():
        by_area[_area(stack)] += n
        functions = [_function(frame) for frame in stack.split(";")]
        self_time[functions[-1]] += n
        for function in set(functions):
            inclusive[function] += n
    cpu = level["cpu"]
    chunks = level["chunks"] or 1
    per_chunk_us = 1e6 * cpu["target_s"] / chunks
    lines = [
        f"# Profile of {'the baseline' if args.baseline else 'the app'}: "
        f"{args.conversations} conversations, {args.gap_ms:g} ms gap, "
        f"WebSocket compression {'on' if args.server_compression else 'off'}, "
        f"LOG_LEVEL={args.log_level}",
        "",
        f"{level['chunks']:,} chunks relayed; app CPU {cpu['target_s']:.2f} s = "
        f"{per_chunk_us:.0f} µs per chunk (py-spy attached); p50 "
        f"{level['latency_ms']['p50']:.2f} ms, p99 {level['latency_ms']['p99']:.2f} ms. "
        f"{total:,} samples of the app's threads while not idle.",
        "",
        "## Time by area (a stack counts for the first area listed in AREAS it touches)",
        "",
        "| area | share | µs per chunk |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {name} | {n / total:.1%} | {per_chunk_us * n / total:.0f} |"
        for name, n in by_area.most_common()
    ]
    lines += ["", "## Self time, top 30 functions", "", "| function | share |", "|---|---:|"]
    lines += [f"| `{fn}` | {n / total:.1%} |" for fn, n in self_time.most_common(30)]
    lines += ["", "## Inclusive time, top 60 functions", "", "| function | share |", "|---|---:|"]
    lines += [f"| `{fn}` | {n / total:.1%} |" for fn, n in inclusive.most_common(60)]
    return "\n".join(lines) + "\n"


async def profile(args: argparse.Namespace) -> None:
    if not PY_SPY.exists():
        raise SystemExit(f"py-spy is not installed ({PY_SPY}): pip install py-spy")
    procs.raise_nofile()
    if args.priority:
        os.nice(-args.priority)
    workdir = Path(tempfile.mkdtemp(prefix="gatehouse-profile-"))
    load = Load(args.gap_ms, args.deltas, 20, 60, "deflate", args.server_compression)
    compression = load.compression
    model = procs.start_model_server(workdir)
    try:
        procs.script_model(model, load.model_reply(), loadgen.STREAM_TEXT)
        procs.script_model(model, scenarios.WARM_REPLY, loadgen.WARM_TEXT)
        model_url = f"http://127.0.0.1:{model.port}"
        app = (
            procs.start_baseline(workdir, model_url, load.server_compression, args.sdk_path)
            if args.baseline
            else procs.start_app(
                workdir, model_url, args.app_src, args.log_level, load.server_compression
            )
        )
        try:
            target = Target("ours", app, model)
            await scenarios.warm(target, compression)
            crowd = loadgen.Crowd(target.url, compression)
            await crowd.open(args.conversations)
            args.out.mkdir(parents=True, exist_ok=True)
            speedscope = args.out / f"{args.name}.speedscope.json"
            replies, stagger_s = load.plan(args.conversations)
            timeout_s = stagger_s + replies * load.reply_s + 15
            async with scenarios.cpu_sampler(target) as samples:
                streaming = asyncio.create_task(crowd.stream(replies, stagger_s, timeout_s))
                if args.whole:
                    seconds = stagger_s + replies * load.reply_s + 3
                else:
                    await asyncio.sleep(stagger_s + 1)  # every conversation is streaming
                    seconds = load.reply_s - stagger_s - 2
                await _record(app.pid, seconds, args.rate, speedscope)
                result = await streaming
            await crowd.close()
            level = scenarios.summarize_level(result, samples, crowd.errors)
        finally:
            app.stop()
    finally:
        model.stop()
        procs.tidy(workdir)
    stacks = collapsed(json.loads(speedscope.read_text()))
    report = summary(stacks, level, args)
    (args.out / f"{args.name}.md").write_text(report)
    log.info("\n%s", report)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    procs.run_on_uvloop(profile(_args(argv)))


if __name__ == "__main__":
    main()
