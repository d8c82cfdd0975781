"""deploy/nginx.conf, run by Debian's nginx in front of the real app: a reply streams through
it as it is written (WebSocket upgrade, no buffering), the HTTP API answers through it, and
the Host and Origin checks still see what the browser sent."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from gatehouse.settings import Settings
from tests.model_server import ModelServer
from tests.redis_server import RedisServer
from tests.running_app import (
    Chat,
    Frame,
    RunningApp,
    ended,
    events,
    free_port,
    http_get,
    start_app,
    streamed_text,
)

pytestmark = pytest.mark.anyio
CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
NGINX = "/usr/sbin/nginx"
START_DEADLINE_S = 30.0


@dataclass
class Proxy:
    port: int
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        return http_get(self.origin + path, headers, timeout=10)

    def log(self) -> str:
        return (self.folder / "nginx.log").read_text(errors="replace")


def proxy_config(upstream_port: int, listen_port: int, folder: Path) -> str:
    """deploy/nginx.conf with the test's ports, and its temporary files under `folder`."""
    text = CONFIG.read_text()
    text, listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen_port};", text)
    text, servers = re.subn(
        r"server 127\.0\.0\.1:4000;", f"server 127.0.0.1:{upstream_port};", text
    )
    assert listens == 1 and servers == 1, "deploy/nginx.conf changed: update this test"
    temp = "".join(
        f"    {kind}_temp_path {folder / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return text.replace("http {\n", "http {\n" + temp, 1)


@pytest.fixture
def proxy(app: RunningApp, tmp_path: Path) -> Iterator[Proxy]:
    with running_proxy(app.port, tmp_path) as started:
        yield started


@pytest.fixture
def workers_proxy(
    model: ModelServer, _run_postgres: str, redis_server: RedisServer, tmp_path: Path
) -> Iterator[Proxy]:
    """The proxy in front of `gatehouse serve --workers 2` on PostgreSQL and Redis."""
    app = start_app(
        model,
        tmp_path / "workers",
        "--workers",
        "2",
        DATABASE_URL=_run_postgres,
        REDIS_URL=redis_server.url,
        TURN_LEASE_MS="1500",
    )
    try:
        with running_proxy(app.port, tmp_path) as started:
            yield started
    finally:
        app.stop()


@contextmanager
def running_proxy(upstream_port: int, tmp_path: Path) -> Generator[Proxy]:
    if not os.path.exists(NGINX):
        raise RuntimeError("nginx is not installed: run `make install-dev`")
    folder = tmp_path / "nginx"
    folder.mkdir()
    port = free_port()
    config = folder / "nginx.conf"
    config.write_text(proxy_config(upstream_port, port, folder))
    user = "user root;" if os.geteuid() == 0 else ""  # workers must reach the temp folder
    globals_ = f"daemon off; master_process on; pid {folder / 'nginx.pid'}; {user}"
    with (folder / "nginx.log").open("wb") as log:
        process = subprocess.Popen(
            [NGINX, "-p", f"{folder}/", "-c", str(config), "-g", globals_],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    proxy = Proxy(port, folder, process)
    try:
        _wait_listening(proxy)
        yield proxy
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGQUIT)  # graceful: lets open sockets finish
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_listening(proxy: Proxy) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        if proxy.process.poll() is not None:
            raise RuntimeError(f"nginx exited with {proxy.process.returncode}:\n{proxy.log()}")
        try:
            socket.create_connection(("127.0.0.1", proxy.port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)  # nginx says nothing when it listens; the deadline bounds this
    raise RuntimeError(f"nginx did not listen:\n{proxy.log()}")


def test_the_config_is_valid_as_shipped(tmp_path: Path) -> None:
    """`nginx -t` on the file exactly as it is in deploy/ (only the pid and logs moved)."""
    result = subprocess.run(
        [NGINX, "-t", "-p", f"{tmp_path}/", "-c", str(CONFIG), "-g", f"pid {tmp_path}/n.pid;"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


@pytest.mark.parametrize("path", ["/ws", "/"])
async def test_a_reply_streams_through_the_proxy_as_it_is_written(
    proxy: Proxy, model: ModelServer, path: str
) -> None:
    gate = f"proxy{path}"
    model.script({"text": ["Olá ", "através ", "do proxy"], "hold_after": 1, "gate": gate})
    url = f"ws://127.0.0.1:{proxy.port}{path}"
    async with Chat(url, origin=proxy.origin) as chat:  # as a browser on the proxy's page
        await chat.say("oi")
        first = await chat.recv_until("ai_chunk")  # while the model holds the rest back
        assert streamed_text(first) == "Olá "
        model.release(gate)
        rest = await chat.recv_until("assistant_message_completed")
        frames = [chat.first, *first, *rest]
    assert streamed_text(first + rest) == "Olá através do proxy"
    assert ended(rest[-1]) == {"reason": "ok"}
    seqs = [frame["seq"] for frame in frames[1:]]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # every frame once, in order
    assert len(events(rest, "assistant_message_completed")) == 1


async def test_the_http_api_answers_through_the_proxy(proxy: Proxy, model: ModelServer) -> None:
    model.script({"text": ["stored"]})
    async with Chat(f"ws://127.0.0.1:{proxy.port}/ws", origin=proxy.origin) as chat:
        await chat.reply_to("keep me")
    assert proxy.get("/health")[0] == 200
    status, body = proxy.get("/api/conversations", {"Origin": proxy.origin})
    assert status == 200, body
    assert chat.session_id in json.dumps(json.loads(body))
    status, body = proxy.get(f"/api/conversations/{chat.session_id}")
    assert status == 200, body
    assert "keep me" in body


async def test_host_and_origin_checks_see_what_the_browser_sent(proxy: Proxy) -> None:
    # a rebound name reaching the proxy is refused by the app: the Host was passed through
    assert proxy.get("/health", {"Host": f"rebind.evil.example:{proxy.port}"})[0] == 400
    assert proxy.get("/api/conversations", {"Origin": "https://evil.example"})[0] == 403
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"ws://127.0.0.1:{proxy.port}/ws", origin="https://evil.example"):  # pyright: ignore[reportArgumentType]
            pass
    assert refused.value.response.status_code == 403


def _location(name: str) -> str:
    text = CONFIG.read_text()
    start = text.index(f"location {name} {{")
    return text[start : text.index("}", start)]


def _seconds(block: str, directive: str) -> float:
    found = re.search(rf"{directive} (\d+)s;", block)
    assert found is not None, f"{directive} missing"
    return float(found.group(1))


@pytest.mark.parametrize("name", ["= /ws", "/"])
def test_a_socket_outlives_the_longest_wait_the_app_allows(name: str) -> None:
    """A socket stays quiet while a person decides on a tool call (TOOL_APPROVAL_TIMEOUT_S) or
    while Claude thinks (ANTHROPIC_TIMEOUT_S): the proxy must not cut it sooner, either way."""
    settings = Settings()
    longest_wait = max(settings.tool_approval_timeout_s, settings.anthropic_timeout_s)
    block = _location(name)
    assert _seconds(block, "proxy_read_timeout") >= 10 * longest_wait
    assert _seconds(block, "proxy_send_timeout") >= 10 * longest_wait
    assert "proxy_buffering off;" in block


async def test_a_reply_resumed_over_five_sockets_through_two_workers(
    workers_proxy: Proxy, model: ModelServer
) -> None:
    """`serve --workers 2` behind the proxy: each socket may reach either worker; a reply
    resumed over five of them arrives whole, every frame once, in order."""
    gate = "proxy-workers"
    pieces = [f"piece {n} " for n in range(16)]
    model.script({"text": pieces, "hold_after": 10, "gate": gate})
    url = f"ws://127.0.0.1:{workers_proxy.port}/ws"
    frames: list[Frame] = []
    try:
        async with Chat(url, origin=workers_proxy.origin) as chat:
            await chat.say("stream to five sockets")
            frames += [await chat.recv() for _ in range(3)]
            chat.abort()
        session_id, last_seq = chat.session_id, chat.last_seq
        for socket_number in range(2, 6):
            if socket_number == 4:
                model.release(gate)
            resume = f"{url}?session_id={session_id}&last_seq={last_seq}"
            async with Chat(resume, origin=workers_proxy.origin) as back:
                if socket_number < 5:
                    frames += [await back.recv() for _ in range(3)]
                    back.abort()
                else:
                    frames += await back.recv_until("assistant_message_completed")
            last_seq = back.last_seq
    finally:
        model.release(gate)
    seqs = [frame["seq"] for frame in frames]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # every frame once, in order
    assert streamed_text(frames) == "".join(pieces)
    assert ended(frames[-1]) == {"reason": "ok"}


def test_the_compose_file_is_valid_yaml_with_workers_postgres_redis_and_nginx() -> None:
    """deploy/compose.yaml is not run here (no Docker): its shape is checked."""
    compose = cast(dict[str, Any], yaml.safe_load((CONFIG.parent / "compose.yaml").read_text()))
    services: dict[str, Any] = compose["services"]
    workers = [name for name in services if name.startswith("gatehouse")]
    assert len(workers) == 2
    for name in workers:
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert env["REDIS_URL"].startswith("redis://")
    assert {"postgres", "redis", "nginx"} <= set(services)
    assert "./nginx.conf:/etc/gatehouse/nginx.conf:ro" in services["nginx"]["volumes"]
