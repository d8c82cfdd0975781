"""What each idle socket keeps alive in the app: tracemalloc before and after N idle sockets.

    cd backend && ../.venv/bin/python -m bench.idle_heap [--sockets 1000] [--frames 6]

Starts the app with a `sitecustomize` in a scratch folder on PYTHONPATH, which starts
tracemalloc and dumps a snapshot on SIGUSR1; opens `--sockets` idle chat sockets as `make
bench` does; prints the bytes per socket by allocating line, by package and by call chain.
Not part of `make bench`: tracemalloc slows the app several times over.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import shutil
import signal
import tempfile
import tracemalloc
from pathlib import Path

from bench import procs
from bench.loadgen import Crowd

log = logging.getLogger("bench.idle_heap")
BACKEND = Path(__file__).resolve().parent.parent

_SITECUSTOMIZE = """
import signal, tracemalloc, gc, os
_count = [0]
def _dump(_signum, _frame):
    gc.collect()
    if not tracemalloc.is_tracing():  # traced from the first snapshot on: start-up stays fast
        tracemalloc.start({frames})
    _count[0] += 1
    tracemalloc.take_snapshot().dump(os.path.join({folder!r}, f"snap{{_count[0]}}.bin"))
    open(os.path.join({folder!r}, f"snap{{_count[0]}}.done"), "w").close()
signal.signal(signal.SIGUSR1, _dump)
"""


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.idle_heap", description=__doc__)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=6, help="call chain depth recorded")
    parser.add_argument("--top", type=int, default=25)
    return parser.parse_args(argv)


async def _snapshot(proc: procs.Proc, folder: Path, index: int) -> tracemalloc.Snapshot:
    proc.popen.send_signal(signal.SIGUSR1)
    done = folder / f"snap{index}.done"
    async with asyncio.timeout(120):
        while not done.exists():
            await asyncio.sleep(0.2)  # the app writes the file; nothing to await on but it
    return tracemalloc.Snapshot.load(str(folder / f"snap{index}.bin"))


async def measure(args: argparse.Namespace) -> None:
    procs.raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="gatehouse-idle-heap-"))
    src = workdir / "src"
    src.mkdir()
    (src / "gatehouse").symlink_to(BACKEND / "gatehouse")
    (src / "sitecustomize.py").write_text(
        _SITECUSTOMIZE.format(frames=args.frames, folder=str(workdir))
    )
    proc = procs.start_app(workdir, "http://127.0.0.1:9", src, "warning", compression=False)
    url = f"ws://127.0.0.1:{proc.port}/ws"
    try:
        warm = Crowd(url, "deflate")
        await warm.open(32)  # first-use imports and caches are not per socket
        await warm.close()
        gc.collect()
        before = await _snapshot(proc, workdir, 1)
        crowd = Crowd(url, "deflate")
        await crowd.open(args.sockets)
        rss_before = proc.rss_bytes()
        after = await _snapshot(proc, workdir, 2)
        _report(before, after, len(crowd.sockets), args.top, rss_before)
        await crowd.close()
    finally:
        proc.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _report(
    before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, sockets: int, top: int, rss: int
) -> None:
    lines = after.compare_to(before, "lineno")
    total = sum(stat.size_diff for stat in lines)
    print(f"{sockets} sockets: {total / sockets / 1024:.1f} KB traced per socket")  # noqa: T201
    print(f"(RSS now {rss / 2**20:.0f} MiB)\n\nby line:")  # noqa: T201
    for stat in lines[:top]:
        frame = stat.traceback[0]
        print(  # noqa: T201
            f"{stat.size_diff / sockets:8.0f} B {stat.count_diff / sockets:6.1f} blocks  "
            f"{_short(frame.filename)}:{frame.lineno}"
        )
    print("\nby package of the allocating line:")  # noqa: T201
    for package, size in _by_package(lines):
        print(f"{size / sockets:8.0f} B  {package}")  # noqa: T201
    print("\nby call chain (most recent call first):")  # noqa: T201
    for stat in after.compare_to(before, "traceback")[:top]:
        frames = list(reversed(stat.traceback))[:5]
        chain = " <- ".join(f"{_short(f.filename)}:{f.lineno}" for f in frames)
        print(f"{stat.size_diff / sockets:8.0f} B  {chain}")  # noqa: T201


def _by_package(lines: list[tracemalloc.StatisticDiff]) -> list[tuple[str, int]]:
    sizes: dict[str, int] = {}
    for stat in lines:
        short = _short(stat.traceback[0].filename)
        package = short.split("/", 1)[0] if "/" in short else short
        sizes[package] = sizes.get(package, 0) + stat.size_diff
    return sorted(sizes.items(), key=lambda item: -item[1])


def _short(filename: str) -> str:
    for marker in ("site-packages/", "python3.11/", "backend/", "/src/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    procs.run_on_uvloop(measure(_args(argv)))


if __name__ == "__main__":
    main()
