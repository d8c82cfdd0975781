"""Hard to break: fuzzed frames, floods, slow readers, full disks, dying peers, leaks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect
from websockets.uri import parse_uri

from gatehouse.protocol import FrameRejected, ToolApproval, parse_client_frame
from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, RunningApp, ended, events, streamed_text

pytestmark = pytest.mark.anyio

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
EVENTS = st.sampled_from(["user_message", "tool_approval", "cancel", "nope", "", "USER_MESSAGE"])


def _envelope(event: str, data: object) -> str:
    return json.dumps({"event": event, "data": data})


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _padded(size: int) -> str:
    return json.dumps({"event": "user_message", "data": {"text": 7}, "x": "y" * size})


FRAMES = st.one_of(
    st.text(max_size=200),  # mostly not JSON at all
    JSON.map(json.dumps),
    st.builds(_envelope, EVENTS, JSON),
    st.builds(_nested, st.integers(1, 5000)),  # deep nesting
    st.builds(
        _padded,
        st.integers(0, 300_000),
    ),
    st.binary(max_size=100),
)


def _expected_answer(raw: str | bytes) -> str | None:
    """The error code a frame must get, or None for a valid frame that needs no answer."""
    try:
        frame = parse_client_frame(raw)
    except FrameRejected as rejected:
        return rejected.reason
    if isinstance(frame, ToolApproval):
        return "unknown_tool_call"
    return None if frame.event == "cancel" else "starts_a_turn"


@pytest.fixture
def fuzz_app(app_factory: AppFactory) -> RunningApp:
    return app_factory(RATE_LIMIT_PER_S="100000", RATE_LIMIT_BURST="100000", LOG_LEVEL="error")


@pytest.fixture
def fuzz_socket(fuzz_app: RunningApp) -> Iterator[ClientConnection]:
    with connect(fuzz_app.ws_url(), max_size=None) as ws:
        assert json.loads(ws.recv(timeout=10))["event"] == "session_created"
        yield ws


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=FRAMES)
def test_fuzzed_frames_are_answered_and_never_break_the_socket(
    fuzz_socket: ClientConnection, raw: str | bytes
) -> None:
    expected = _expected_answer(raw)
    if expected in (None, "starts_a_turn"):
        return  # valid frames are the other tests' business
    fuzz_socket.send(raw)
    answer = json.loads(fuzz_socket.recv(timeout=10))
    assert answer["event"] == "error"
    assert answer["data"]["detail"]["code"] == expected
    assert "Traceback" not in answer["data"]["message"]


def test_the_fuzzed_socket_still_chats(fuzz_app: RunningApp, model: ModelServer) -> None:
    with connect(fuzz_app.ws_url()) as ws:
        ws.recv(timeout=10)
        for raw in ("{", "[" * 100_000, json.dumps({"event": "user_message", "data": {}})):
            ws.send(raw)
            assert json.loads(ws.recv(timeout=10))["event"] == "error"
        ws.send(json.dumps({"event": "user_message", "data": {"text": "alive?"}}))
        frames = [json.loads(ws.recv(timeout=10)) for _ in range(5)]
    assert streamed_text(frames) == "Echo: alive?"
    assert len(model.requests) == 1


async def test_a_frame_over_the_size_limit_closes_with_1009(app_factory: AppFactory) -> None:
    app = app_factory(MAX_FRAME_BYTES="2048")
    async with Chat(app.ws_url()) as chat:
        await chat.say("x" * 4096)
        with pytest.raises(ConnectionClosed) as closed:
            await chat.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


async def test_flooding_is_refused_with_one_message_then_disconnected(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(RATE_LIMIT_PER_S="5", RATE_LIMIT_BURST="5")
    async with Chat(app.ws_url(locale="en")) as chat:
        for _ in range(5):
            await chat.send("tool_approval", {"tool_use_id": "t", "approved": False})
        answers = [await chat.recv() for _ in range(5)]
        for _ in range(600):
            await chat.send("tool_approval", {"tool_use_id": "t", "approved": False})
        refused = await chat.recv()
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await chat.recv()
    assert {a["data"]["detail"]["code"] for a in answers} == {"unknown_tool_call"}
    assert refused["data"]["detail"] == {"code": "too_many_messages"}
    assert refused["data"]["message"] == "Too many messages in a short time. Wait a moment."
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008
    assert model.requests == []


async def test_a_client_that_stops_reading_is_cut_off_and_others_are_served(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(OUTBOX_FRAMES="64")
    model.script({"text": ["y" * 16_000] * 600}, match="flood me")  # 9.6 MB, past the buffers
    with _NonReader(app.ws_url()) as slow:
        slow.say("flood me")  # and never read
        async with Chat(app.ws_url()) as fine:
            frames = await fine.reply_to("me too")
        with anyio.fail_after(60):
            while "slow_client_closed" not in app.log():  # the server gave up on it
                await anyio.sleep(0.1)
        code = await anyio.to_thread.run_sync(slow.read_until_close)
    assert streamed_text(frames) == "Echo: me too"
    assert code == 1013


class _NonReader:
    """A WebSocket client on a raw socket with a tiny receive window that reads nothing."""

    def __init__(self, url: str) -> None:
        self._protocol = ClientProtocol(parse_uri(url))
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self._sock.settimeout(30)
        self._sock.connect(("127.0.0.1", parse_uri(url).port))

    def __enter__(self) -> _NonReader:
        self._protocol.send_request(self._protocol.connect())
        self._flush()
        while not self._protocol.handshake_exc and self._protocol.state is not State.OPEN:
            self._protocol.receive_data(self._sock.recv(4096))
        return self

    def __exit__(self, *_: object) -> None:
        self._sock.close()

    def say(self, text: str) -> None:
        self._protocol.send_text(
            json.dumps({"event": "user_message", "data": {"text": text}}).encode()
        )
        self._flush()

    def read_until_close(self) -> int:
        while True:
            for event in self._protocol.events_received():
                if isinstance(event, Frame) and event.opcode is Opcode.CLOSE:
                    return Close.parse(event.data).code
            data = self._sock.recv(1 << 20)
            if not data:
                raise AssertionError("the connection ended without a close frame")
            self._protocol.receive_data(data)

    def _flush(self) -> None:
        self._sock.sendall(b"".join(self._protocol.data_to_send()))


@pytest.fixture
def tiny_disk(app: RunningApp) -> Iterator[Path]:
    """A 64 KiB file system mounted inside the workspace."""
    folder = app.workspace / "tiny"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


async def test_a_full_disk_fails_the_write_and_leaves_no_partial_file(
    app: RunningApp, model: ModelServer, tiny_disk: Path
) -> None:
    content = "z" * 300_000
    use = {
        "id": "toolu_full",
        "name": "create_file",
        "input": {"path": "tiny/big.txt", "content": content},
    }
    model.script({"text": ["Writing."], "tool_uses": [use]})
    async with Chat(app.ws_url()) as chat:
        await chat.say("fill the disk")
        await chat.recv_until("tool_request")
        await chat.send("tool_approval", {"tool_use_id": "toolu_full", "approved": True})
        frames = await chat.recv_until("assistant_message_completed")
    [error] = events(frames, "error")
    assert error["data"]["detail"] == {"code": "write_failed", "tool_use_id": "toolu_full"}
    assert list(tiny_disk.iterdir()) == []
    assert ended(frames[-1]) == {"reason": "ok"}


async def test_the_model_server_dying_mid_stream_is_an_error_and_the_chat_goes_on(
    app_factory: AppFactory,
) -> None:
    model = subprocess.Popen(
        [sys.executable, "-m", "tests.model_server", "--port", "0"],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parents[1],
    )
    assert model.stdout is not None
    port = int(model.stdout.readline().split()[1])
    model.stdout.close()
    app = app_factory(ANTHROPIC_BASE_URL=f"http://127.0.0.1:{port}", ANTHROPIC_MAX_RETRIES="0")
    _control(port, "script", {"reply": {"text": ["a", "b"], "hold_after": 1, "gate": "g"}})
    async with Chat(app.ws_url()) as chat:
        await chat.say("go")
        await chat.recv_until("ai_chunk")
        model.send_signal(signal.SIGKILL)
        model.wait()
        frames = await chat.recv_until("assistant_message_completed")
        after = await chat.reply_to("anyone there?")
    assert _only_code(frames) == "stream_interrupted"
    assert _only_code(after) == "service_unavailable"
    assert ended(after[-1]) == {"reason": "error"}


def _only_code(frames: list[dict[str, Any]]) -> str:
    [error] = events(frames, "error")
    return error["data"]["detail"]["code"]


def _control(port: int, action: str, payload: dict[str, Any]) -> None:
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/_control/{action}",
        data=json.dumps(payload).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5):
        pass


def _open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def test_a_thousand_connections_leave_no_files_or_memory_behind(
    app_factory: AppFactory,
) -> None:
    app = app_factory(LOG_LEVEL="warning", RESUME_GRACE_S="0")
    pid = app.process.pid

    async def open_and_close(count: int) -> None:
        for _ in range(count):
            async with Chat(app.ws_url()):
                pass

    await open_and_close(100)  # warm up allocator pools and caches
    files, rss = _open_files(pid), _rss_kib(pid)
    await open_and_close(1000)
    with anyio.fail_after(10):
        while _open_files(pid) > files + 2:  # the last closes are being processed
            await anyio.sleep(0.05)
    assert _open_files(pid) <= files + 2
    assert _rss_kib(pid) - rss < 16 * 1024, "resident memory grew by more than 16 MiB"


async def test_tokens_guard_the_api_and_metrics(app_factory: AppFactory) -> None:
    app = app_factory(AUTH_TOKEN="s3cret", METRICS_TOKEN="m3trics")
    assert app.get("/api/conversations")[0] == 401
    assert app.get("/api/conversations", {"Authorization": "Bearer wrong"})[0] == 401
    assert app.get("/api/conversations", {"Authorization": "Bearer s3cret"})[0] == 200
    assert app.get("/metrics")[0] == 401
    assert app.get("/metrics", {"Authorization": "Bearer m3trics"})[0] == 200
    assert app.get("/health")[0] == 200


async def test_listening_beyond_loopback_unprotected_is_warned_about(
    app_factory: AppFactory,
) -> None:
    app = app_factory(HOST="0.0.0.0")
    warnings = [e for e in app.log_events() if e.get("event") == "exposed_without_protection"]
    assert len(warnings) == 1
    assert warnings[0]["level"] == "warning"
    safe = app_factory(HOST="0.0.0.0", AUTH_TOKEN="t", WS_ALLOWED_ORIGINS="http://x.example")
    assert "exposed_without_protection" not in safe.log()
