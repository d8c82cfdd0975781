"""Shared pieces of the MCP tests: where the peer programs live, and small waiting helpers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream

BACKEND_DIR = Path(__file__).resolve().parents[1]
PEERS_BIN = BACKEND_DIR / "tests" / "mcp_peers" / "node_modules" / ".bin"
PYTHON = sys.executable

# Starts a program after writing its pid to a file: `exec` keeps the pid, so the file names the
# MCP server itself, and every respawn overwrites it.
_PID_WRAPPER = 'echo $$ > "$1"; shift; exec "$@"'


def peer_binary(name: str) -> Path:
    """A program installed by `npm ci --prefix backend/tests/mcp_peers`."""
    path = PEERS_BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `npm ci --prefix backend/tests/mcp_peers`")
    return path


def workspace_env(
    workspace: Path, chunk_bytes: int = 4096, max_file_bytes: int = 1 << 20
) -> dict[str, str]:
    """The environment `python -m gatehouse.workspace_server` reads its settings from."""
    return {
        "WORKSPACE_DIR": str(workspace),
        "TOOL_CHUNK_BYTES": str(chunk_bytes),
        "MAX_FILE_BYTES": str(max_file_bytes),
    }


def with_pid_file(pid_file: Path, command: str, *args: str) -> tuple[str, tuple[str, ...]]:
    """(command, args) that run `command args` and leave its pid in `pid_file`."""
    return "/bin/sh", ("-c", _PID_WRAPPER, "sh", str(pid_file), command, *args)


async def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Poll `condition` until it holds; fail the test after `timeout_s`."""
    with anyio.fail_after(timeout_s):
        while not condition():
            await anyio.sleep(0.02)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry below `folder`: file bytes, `dir` or `-> target` for symlinks."""
    found: dict[str, bytes | str] = {}
    for top, folders, files in os.walk(folder):  # does not follow symlinked folders
        for name in folders + files:
            path = Path(top) / name
            key = str(path.relative_to(folder))
            if path.is_symlink():
                found[key] = f"-> {os.readlink(path)}"
            elif path.is_dir():
                found[key] = "dir"
            else:
                found[key] = path.read_bytes()
    return dict(sorted(found.items()))


@asynccontextmanager
async def http_server(ws: Path, chunk_bytes: int = 5) -> AsyncGenerator[str]:
    """Run `python -m gatehouse.workspace_server --http PORT`; yield its URL once it listens."""
    port = free_port()
    process = await anyio.open_process(
        [PYTHON, "-m", "gatehouse.workspace_server", "--http", str(port)],
        env={**os.environ, **workspace_env(ws, chunk_bytes=chunk_bytes)},
        cwd=BACKEND_DIR,
        stdout=subprocess.DEVNULL,
    )
    async with process, anyio.create_task_group() as tasks:
        started = anyio.Event()
        tasks.start_soon(_watch_log, process, started)
        with anyio.fail_after(20):
            await started.wait()
        try:
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            process.terminate()
            tasks.cancel_scope.cancel()


async def _watch_log(process: Process, started: anyio.Event) -> None:
    """Set `started` when uvicorn says it listens; keep draining stderr so it never blocks."""
    assert process.stderr is not None
    log = ""
    async for text in TextReceiveStream(process.stderr):
        log = (log + text)[-4000:]
        if "Uvicorn running on" in log:
            started.set()
    if not started.is_set():
        raise RuntimeError(f"the workspace server exited before listening:\n{log}")
