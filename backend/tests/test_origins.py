"""Who may reach the app: the Host check (DNS rebinding) and the Origin check (cross-site pages)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from tests.running_app import AppFactory, Chat, RunningApp, streamed_text

pytestmark = pytest.mark.anyio

FOREIGN_PAGE = "http://127.0.0.2:8000"  # another local origin, as a page a person opened


def _request(
    app: RunningApp, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    """One HTTP request to the app's port with exactly these headers (Host included)."""
    connection = http.client.HTTPConnection("127.0.0.1", app.port, timeout=5)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        body = response.read().decode()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


async def _open_socket(app: RunningApp, url: str, origin: str | None = None) -> str:
    """The first frame of a socket to the app's port at `url`, whose host is the Host header."""
    sent_origin = Origin(origin) if origin else None
    async with connect(url, host="127.0.0.1", port=app.port, origin=sent_origin) as ws:
        return str(await ws.recv())


async def _a_conversation(app: RunningApp) -> str:
    async with Chat(app.ws_url()) as chat:
        await chat.reply_to("a secret worth stealing")
    return chat.session_id


async def test_a_rebinding_host_gets_400_over_http_and_reaches_nothing(app: RunningApp) -> None:
    secret = await _a_conversation(app)
    rebound = {"Host": f"rebind.evil.example:{app.port}"}
    for path in ("/api/conversations", f"/api/conversations/{secret}", "/health", "/"):
        status, _, body = _request(app, "GET", path, rebound)
        assert (status, secret in body) == (400, False), path
    assert _request(app, "DELETE", f"/api/conversations/{secret}", rebound)[0] == 400
    for host in ("127.0.0.1", "localhost", "[::1]"):
        status, _, body = _request(app, "GET", "/api/conversations", {"Host": f"{host}:{app.port}"})
        assert (status, secret in body) == (200, True), host


async def test_a_rebinding_host_never_opens_the_socket(app: RunningApp) -> None:
    secret = await _a_conversation(app)
    for path in ("/ws", "/"):  # the socket's two paths
        with pytest.raises(InvalidStatus) as refused:
            await _open_socket(
                app, f"ws://rebind.evil.example:{app.port}{path}?session_id={secret}"
            )
        assert refused.value.response.status_code == 400
        first = json.loads(
            await _open_socket(app, f"ws://localhost:{app.port}{path}?session_id={secret}")
        )
        assert first["data"]["session_id"] == secret
    refusals = app.get("/metrics")[1]
    assert 'gatehouse_websocket_refused_total{reason="host"} 2.0' in refusals


async def test_by_default_a_page_of_another_origin_can_neither_chat_nor_use_the_api(
    app: RunningApp,
) -> None:
    secret = await _a_conversation(app)
    for path in ("/ws", "/"):
        with pytest.raises(InvalidStatus) as refused:
            await _open_socket(app, app.ws_url(path), origin=FOREIGN_PAGE)
        assert refused.value.response.status_code == 403
    foreign = {"Origin": FOREIGN_PAGE}
    status, headers, body = _request(app, "GET", "/api/conversations", foreign)
    assert (status, secret in body) == (403, False)
    assert "access-control-allow-origin" not in headers
    assert _request(app, "DELETE", f"/api/conversations/{secret}", foreign)[0] == 403
    assert secret in app.get("/api/conversations")[1]  # nothing was deleted
    # A sandboxed frame or a file:// page sends `Origin: null`.
    assert _request(app, "GET", "/api/conversations", {"Origin": "null"})[0] == 403


async def test_the_apps_own_page_is_same_origin_under_any_allowed_host(app: RunningApp) -> None:
    secret = await _a_conversation(app)
    for host in ("127.0.0.1", "localhost"):
        own = f"http://{host}:{app.port}"
        first = json.loads(await _open_socket(app, f"ws://{host}:{app.port}/ws", origin=own))
        assert first["event"] == "session_created"
        status, _, body = _request(
            app, "GET", "/api/conversations", {"Host": f"{host}:{app.port}", "Origin": own}
        )
        assert (status, secret in body) == (200, True)
    # The same host on another port is another origin.
    with pytest.raises(InvalidStatus):
        await _open_socket(app, app.ws_url(), origin=f"http://127.0.0.1:{app.port + 1}")


async def test_listed_origins_and_hosts_are_added_with_cors_for_the_listed_only(
    app_factory: AppFactory,
) -> None:
    app = app_factory(WS_ALLOWED_ORIGINS="http://localhost:3000", ALLOWED_HOSTS="chat.example")
    async with Chat(app.ws_url(), origin="http://localhost:3000") as chat:
        frames = await chat.reply_to("from next dev")
    assert streamed_text(frames) == "Echo: from next dev"
    listed = {"Origin": "http://localhost:3000"}
    status, headers, _ = _request(app, "GET", "/api/conversations", listed)
    assert status == 200
    assert headers["access-control-allow-origin"] == "http://localhost:3000"
    preflight = {
        **listed,
        "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "authorization",
    }
    status, headers, _ = _request(app, "OPTIONS", "/api/conversations/x", preflight)
    assert status == 200
    assert "DELETE" in headers["access-control-allow-methods"]
    status, headers, _ = _request(app, "GET", "/api/conversations", {"Origin": FOREIGN_PAGE})
    assert status == 403
    assert "access-control-allow-origin" not in headers
    assert _request(app, "GET", "/health", {"Host": "chat.example:8443"})[0] == 200
    assert _request(app, "GET", "/health", {"Host": "other.example"})[0] == 400


async def test_any_origin_is_an_explicit_choice_warned_about_on_loopback_too(
    app_factory: AppFactory,
) -> None:
    app = app_factory(WS_ALLOWED_ORIGINS="*")
    async with Chat(app.ws_url(), origin=FOREIGN_PAGE) as chat:
        frames = await chat.reply_to("anyone may")
    assert streamed_text(frames) == "Echo: anyone may"
    warnings = [e for e in app.log_events() if e.get("event") == "any_origin_allowed"]
    assert [w["level"] for w in warnings] == ["warning"]


async def test_listening_on_every_interface_hints_at_allowed_hosts(
    app_factory: AppFactory,
) -> None:
    app = app_factory(HOST="0.0.0.0")
    hints = [e for e in app.log_events() if e.get("event") == "allowed_hosts_needed"]
    assert len(hints) == 1
    assert "ALLOWED_HOSTS" in hints[0]["hint"]
    assert _request(app, "GET", "/health", {"Host": "0.0.0.0"})[0] == 400
    named = app_factory(HOST="0.0.0.0", ALLOWED_HOSTS="192.0.2.7")
    assert "allowed_hosts_needed" not in named.log()
    assert _request(named, "GET", "/health", {"Host": f"192.0.2.7:{named.port}"})[0] == 200


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WS_ALLOWED_ORIGINS", "localhost:3000"),
        ("WS_ALLOWED_ORIGINS", "http://localhost:3000/chat"),
        ("ALLOWED_HOSTS", "chat.example:8443"),
        ("ALLOWED_HOSTS", "chat.*.example"),
    ],
)
def test_an_origin_or_host_that_could_never_match_stops_start_up(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gatehouse", "serve"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), variable: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"gatehouse: invalid {variable}:")
