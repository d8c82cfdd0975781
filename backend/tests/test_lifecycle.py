"""Start-up, health, metrics, and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from websockets.exceptions import ConnectionClosed

from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, RunningApp

pytestmark = pytest.mark.anyio


def _serve_with(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "-m", "gatehouse", "serve"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PORT", "not-a-port"), ("TOOL_CHUNK_BYTES", "0"), ("DEFAULT_LOCALE", "fr")],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = _serve_with(tmp_path, **{variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"gatehouse: invalid {variable}:")


def test_settings_are_read_from_a_dot_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=99999\n")
    result = _serve_with(tmp_path)
    assert result.returncode == 2
    assert "invalid PORT" in result.stderr


async def test_health_ready_and_metrics_answer(app: RunningApp, model: ModelServer) -> None:
    async with Chat(app.ws_url()) as chat:
        await chat.reply_to("count me")
    assert app.get("/health") == (200, '{"status":"ok"}')
    status, ready = app.get("/ready")
    assert status == 200
    assert '"workspace":"ready"' in ready
    status, body = app.get("/metrics")
    assert status == 200
    assert 'gatehouse_anthropic_requests_total{outcome="ok"}' in body
    assert "gatehouse_anthropic_time_to_first_token_seconds_bucket" in body
    assert "gatehouse_anthropic_stream_duration_seconds_count" in body
    assert "gatehouse_websocket_connections_total" in body
    assert len(model.requests) == 1


async def test_logs_are_json_lines_with_session_id(app: RunningApp) -> None:
    async with Chat(app.ws_url()) as chat:
        await chat.reply_to("log me")
    connected = [e for e in app.log_events() if e.get("event") == "websocket_connected"]
    mine = [e for e in connected if e.get("session_id") == chat.session_id]
    assert len(mine) == 1
    assert mine[0]["level"] == "info"
    assert mine[0]["timestamp"].endswith("Z")


async def test_sigterm_closes_sockets_with_1001_and_cancels_replies(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory()
    model.script({"text": ["never ", "ends"], "hold_after": 1, "gate": "sigterm"})
    async with Chat(app.ws_url()) as chat:
        await chat.say("long one")
        await chat.recv_until("ai_chunk")
        app.process.send_signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await chat.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1001
    with anyio.fail_after(15):
        code = await anyio.to_thread.run_sync(app.process.wait)
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down
    assert "Traceback" not in app.log()
