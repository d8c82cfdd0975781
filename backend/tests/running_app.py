"""The real app as a process (`python -m gatehouse serve`) on a free port, and a chat client."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
from websockets.asyncio.client import ClientConnection, connect

from tests.model_server import ModelServer

Frame = dict[str, Any]
AppFactory = Callable[..., "RunningApp"]
STARTUP_DEADLINE_S = 90.0  # a loaded machine (imports from a cold disk) starts slowly


def http_get(
    url: str, headers: dict[str, str] | None = None, timeout: float = 5
) -> tuple[int, str]:
    """GET `url`: its status and body, an HTTP error's included."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def http_json(
    app: RunningApp, method: str, path: str, body: Any = None, timeout: float = 10
) -> tuple[int, Any]:
    """A JSON request to the app's HTTP API: its status and decoded body, an error's too."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(app.base_url + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read().decode()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read().decode() or "null")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningApp:
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    workspace: Path
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, path: str = "/ws", **query: str) -> str:
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        return f"ws://127.0.0.1:{self.port}{path}" + (f"?{qs}" if qs else "")

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        return http_get(self.base_url + path, headers, timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_events(self) -> list[Frame]:
        events: list[Frame] = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                events.append(json.loads(line))
        return events

    def clear_workspace(self) -> None:
        for child in self.workspace.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_app(model: ModelServer, workdir: Path, *args: str, **env: str) -> RunningApp:
    """Start the app in `workdir` (so no stray .env is read) and wait until /health answers.
    `args` go to `gatehouse serve` (`--workers 2`).
    PYTHONPATH is passed through, so a checkout other than the installed one can be run."""
    workdir.mkdir(parents=True, exist_ok=True)
    workspace = workdir / "workspace"
    workspace.mkdir(exist_ok=True)
    port = free_port()
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "HOME": os.environ.get("HOME", str(workdir)),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": model.base_url,
        "WORKSPACE_DIR": str(workspace),
        "LOG_LEVEL": "info",
        "FRONTEND_DIR": str(workdir / "no-frontend"),
        "GENERATE_TITLES": "false",  # tests that count Claude's requests expect only replies
        # tests that compare the messages sent expect them as stored; tests/test_usage.py and
        # the e2e run (caching on, the product's default) check the breakpoints
        "PROMPT_CACHING": "false",
        **env,
    }
    environment = {k: v for k, v in environment.items() if v != ""}
    log_path = workdir / "server.log"
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gatehouse", "serve", *args],
            cwd=workdir,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    app = RunningApp(process, port, workdir, workspace, log_path)
    _wait_healthy(app)
    return app


def _wait_healthy(app: RunningApp) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise RuntimeError(f"app exited with {app.process.returncode}:\n{app.log()}")
        try:
            if app.get("/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)  # polling a port that is not open yet; the deadline bounds it
    app.stop()
    raise RuntimeError(f"app did not become healthy:\n{app.log()}")


class Chat:
    """A WebSocket client speaking the Gatehouse protocol, with deadlines on every wait."""

    def __init__(self, url: str, origin: str | None = None, timeout: float = 15.0) -> None:
        self._url = url
        self._origin = origin
        self.timeout = timeout
        self.ws: ClientConnection | None = None
        self.session_id = ""
        self.last_seq = 0
        self.first: Frame = {}

    async def __aenter__(self) -> Chat:
        kwargs: dict[str, Any] = {"max_size": 16 * 1024 * 1024}
        if self._origin is not None:
            kwargs["origin"] = self._origin
        self.ws = await connect(self._url, **kwargs)
        try:
            first = await self.recv()
            assert first["event"] == "session_created", first
        except BaseException:  # no __aexit__ follows: the socket must not be left open
            self.ws.transport.abort()
            raise
        self.session_id = first["data"]["session_id"]
        self.first = first
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self.ws is not None:
            try:
                await self.ws.close()
            finally:  # a close cut short (a deadline, a dead server) still frees the socket
                self.ws.transport.abort()

    async def send(self, event: str, data: Any = None) -> None:
        frame: Frame = {"event": event}
        if data is not None:
            frame["data"] = data
        await self.send_raw(json.dumps(frame))

    async def send_raw(self, raw: str | bytes) -> None:
        assert self.ws is not None
        await self.ws.send(raw)

    async def say(self, text: str) -> None:
        await self.send("user_message", {"text": text})

    async def recv(self) -> Frame:
        assert self.ws is not None
        with anyio.fail_after(self.timeout):
            frame: Frame = json.loads(await self.ws.recv())
        self.last_seq = max(self.last_seq, frame.get("seq", 0))
        return frame

    def abort(self) -> None:
        """Cut the connection without a closing handshake, as a dropped network would."""
        assert self.ws is not None
        self.ws.transport.abort()

    async def recv_until(self, event: str, **match: Any) -> list[Frame]:
        """Frames up to and including the first `event` whose data has the `match` items."""
        frames: list[Frame] = []
        while True:
            frame = await self.recv()
            frames.append(frame)
            data = frame.get("data", {})
            if frame["event"] == event and all(data.get(k) == v for k, v in match.items()):
                return frames

    async def reply_to(self, text: str) -> list[Frame]:
        await self.say(text)
        return await self.recv_until("assistant_message_completed")


def events(frames: list[Frame], name: str) -> list[Frame]:
    return [f for f in frames if f["event"] == name]


def streamed_text(frames: list[Frame]) -> str:
    return "".join(f["data"]["text"] for f in events(frames, "ai_chunk"))


def ended(frame: Frame) -> dict[str, Any]:
    """An `assistant_message_completed`'s data without its `usage` (checked on its own in
    tests/test_usage.py) and its message `ids` (tests/test_branches.py): how the reply ended."""
    return {key: value for key, value in frame["data"].items() if key not in ("usage", "ids")}


def without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    """A frame's data, or a history message, without the fields a test does not look at (a
    reply's `usage`, the conversation's `settings`), each checked by tests of its own."""
    return {key: value for key, value in data.items() if key not in keys}
