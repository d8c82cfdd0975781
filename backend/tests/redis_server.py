"""A throwaway Redis server for the tests: its own process, on a free local port.

`make install-dev` installs Debian's redis-server (its system service disabled). Each server
runs in a temporary folder with no persistence (`--save ''`, `--appendonly no`), so a restart
starts empty, as a crashed Redis without persistence does. `restart()` brings it back on the
same port, for the tests of what workers do when Redis goes away while replies stream.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from tests.running_app import free_port

READY_LINE = "Ready to accept connections"
START_DEADLINE_S = 30.0


def _binary() -> str:
    found = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")
    if found is None:
        raise RuntimeError("redis-server is not installed: run `make install-dev`")
    return found


class RedisServer:
    """One redis-server process; `url` stays the same across `restart()`."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self._process: subprocess.Popen[str] | None = None
        self._drainer: threading.Thread | None = None
        self._log: list[str] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log(self) -> str:
        return "".join(self._log)

    def start(self) -> None:
        assert not self.running, "already running"
        command = [
            _binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.folder),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            "",  # to stdout, which we read for the ready line
            "--protected-mode",
            "yes",
        ]
        process = subprocess.Popen(
            command,
            cwd=self.folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._process = process
        ready = threading.Event()
        assert process.stdout is not None
        self._drainer = threading.Thread(
            target=self._drain, args=(process.stdout, ready), daemon=True
        )
        self._drainer.start()
        if not ready.wait(START_DEADLINE_S) or process.poll() is not None:
            self.stop()
            raise RuntimeError(f"redis-server did not start:\n{self.log()}")

    def _drain(self, stream: IO[str], ready: threading.Event) -> None:
        """Keep the pipe empty for the server's life; `ready` is set by its ready line."""
        for line in stream:
            self._log.append(line)
            if READY_LINE in line:
                ready.set()
        ready.set()  # the server exited: start() looks at poll()

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Stop the server (SIGKILL for a crash); a no-op when it is not running."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._drainer is not None:
            self._drainer.join(10)  # the pipe ends with the process
            self._drainer = None
        if process.stdout is not None:
            process.stdout.close()
        self._process = None

    def restart(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Stop the server and start a fresh, empty one on the same port."""
        self.stop(sig)
        self.start()


@contextmanager
def redis_server() -> Generator[RedisServer]:
    """Yield a running server; stop it and remove its folder afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="gatehouse-redis-"))
    server = RedisServer(folder, free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
