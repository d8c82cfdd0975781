"""The processes of a run (model server, app, baseline relay) and their /proc readings."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
BACKEND = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
STARTUP_S = 30.0


def raise_nofile() -> int:
    """Lift this process's open-file limit to the hard limit; children inherit it."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu_seconds(self) -> float:
        """User + system CPU of the process (all its threads) so far."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()  # fields[0] is field 3 (state)
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime

    def rss_bytes(self) -> int:
        pages = Path(f"/proc/{self.pid}/statm").read_text().split()[1]
        return int(pages) * PAGE_BYTES

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        if self.popen.stdout is not None:
            self.popen.stdout.close()


def _children(pid: int) -> list[int]:
    """The child processes of `pid` (of any of its threads); none once it is gone."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(v) for v in task.read_text().split()]
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def descendants(pid: int) -> Iterator[int]:
    """`pid` and every process below it."""
    todo = [pid]
    while todo:
        current = todo.pop()
        yield current
        todo += _children(current)


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU of one process (all its threads) so far; 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # fields[0] is field 3 (state)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def tree_cpu_seconds(pid: int) -> float:
    """CPU so far of `pid` and of every process below it (a process that ended takes its
    share with it: read the tree while it lives)."""
    return sum(cpu_seconds_of(p) for p in descendants(pid))


class ProcTree(Proc):
    """A process that starts others (`serve --workers N`: uvicorn's supervisor and its
    workers): the CPU of them all; stopping it ends its whole process group."""

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.pid)

    def workers(self) -> list[int]:
        """The worker processes (multiprocessing's resource tracker left out)."""
        return [pid for pid in _children(self.pid) if b"resource_tracker" not in _cmdline(pid)]

    def stop(self) -> None:
        super().stop()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # a worker its supervisor left behind


def _spawn(
    name: str, argv: list[str], cwd: Path, env: dict[str, str], workdir: Path, *, pipe: bool
) -> Proc:
    """Start `argv`; stderr (and stdout unless `pipe`) go to `<workdir>/<name>.log`."""
    log_path = workdir / f"{name}.log"
    with log_path.open("ab") as log_file:
        popen = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE if pipe else log_file,
            stderr=log_file,
            start_new_session=True,
        )
    return Proc(name, popen, 0, log_path)


def _await_ready_line(proc: Proc) -> Proc:
    """Read the `ready <port>` line the process prints once it listens."""
    stdout = proc.popen.stdout
    assert stdout is not None
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline and proc.alive():
        readable, _, _ = select.select([stdout], [], [], 0.2)
        if readable:
            line = stdout.readline().decode().split()
            if len(line) == 2 and line[0] == "ready":
                proc.port = int(line[1])
                return proc
    proc.stop()
    raise RuntimeError(f"{proc.name} did not start:\n{proc.log_tail()}")


def _base_env(workdir: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(workdir), "PYTHONUNBUFFERED": "1"}


def start_model_server(workdir: Path) -> Proc:
    env = {**_base_env(workdir), "PYTHONPATH": str(BACKEND)}
    argv = [sys.executable, "-m", "bench.model_proc", "--port", "0"]
    return _await_ready_line(_spawn("model_server", argv, BACKEND, env, workdir, pipe=True))


def start_baseline(
    workdir: Path, model_url: str, compression: bool, sdk_path: str = "helper"
) -> Proc:
    env = {**_base_env(workdir), "PYTHONPATH": str(BACKEND)}
    argv = [sys.executable, "-m", "bench.baseline", "--port", "0", "--model-url", model_url]
    argv += ["--compression"] if compression else []
    argv += ["--sdk-path", sdk_path]
    name = "baseline" if sdk_path == "helper" else f"baseline-{sdk_path}"
    return _await_ready_line(_spawn(name, argv, BACKEND, env, workdir, pipe=True))


def start_app(
    workdir: Path,
    model_url: str,
    app_src: Path | None,
    log_level: str,
    compression: bool,
    *,
    name: str = "app",
    args: Sequence[str] = (),
    extra_env: Mapping[str, str] | None = None,
) -> Proc:
    """`python -m gatehouse serve [args]` in its own folder `<workdir>/<name>` (so no stray
    .env is read); `compression`: WS_COMPRESSION (permessage-deflate), off by default in the
    app; `extra_env` (DATABASE_URL, REDIS_URL, ...) goes over the defaults. The package comes
    from `app_src` when given, else from this checkout. Several processes (`--workers N`) are
    one `ProcTree`: its CPU is theirs together."""
    home = workdir / name
    (home / "workspace").mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **_base_env(home),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ANTHROPIC_API_KEY": "sk-ant-bench",
        "ANTHROPIC_BASE_URL": model_url,
        "WORKSPACE_DIR": str(home / "workspace"),
        "LOG_LEVEL": log_level,
        "FRONTEND_DIR": str(home / "no-frontend"),
        "WS_COMPRESSION": "true" if compression else "false",
        "MAX_CONNECTIONS_PER_CLIENT": "1000000",  # every bench socket comes from 127.0.0.1
        # a scratch copy of the package (e.g. to try a change), else this checkout's
        "PYTHONPATH": str(app_src or BACKEND),
        **(extra_env or {}),
    }
    argv = [sys.executable, "-m", "gatehouse", "serve", *args]
    log_path = workdir / f"{name}.log"
    with log_path.open("ab") as log_file:
        popen = subprocess.Popen(
            argv, cwd=home, env=env, stdout=log_file, stderr=log_file, start_new_session=True
        )
    proc = ProcTree(name, popen, port, log_path) if args else Proc(name, popen, port, log_path)
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline and proc.alive():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.1)  # not listening yet; the deadline bounds the wait
    proc.stop()
    raise RuntimeError(f"{name} did not start:\n{proc.log_tail()}")


def script_model(model: Proc, reply: dict[str, Any], match: str, times: int = 10**9) -> None:
    body = json.dumps({"match": match, "reply": reply, "times": times}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{model.port}/_control/script",
        data=body,
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


async def quiesce(proc: Proc, idle_share: float = 0.03, timeout_s: float = 15.0) -> None:
    """Wait until `proc` uses under `idle_share` of a core over half a second (bounded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.alive():
        before = proc.cpu_seconds()
        await asyncio.sleep(0.5)
        if proc.cpu_seconds() - before < idle_share * 0.5:
            return


def system_busy_seconds() -> float:
    """CPU seconds every core has spent busy since boot (all processes, ours included)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / CLOCK_TICKS


def load_average() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


def run_on_uvloop(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, on uvloop when installed (as uvicorn runs the app): a cheaper client."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def tidy(workdir: Path) -> None:
    """Remove what a run left in its work folder (databases, written files) but the logs."""
    for path in sorted(workdir.rglob("*"), reverse=True):  # children before their folders
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif path.suffix != ".log":
            path.unlink()
