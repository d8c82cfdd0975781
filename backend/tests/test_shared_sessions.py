"""Several workers sharing conversations through Redis and PostgreSQL (issue 17): the real app
started several times on one database and one Redis (real servers, tests/postgres.py and
tests/redis_server.py), driven by real WebSocket clients, with a turn lease of 1.5 s."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from redis.asyncio import Redis

from gatehouse.redis_client import connect
from gatehouse.store import Store
from tests.mcp_support import wait_until
from tests.model_server import ModelServer
from tests.redis_server import RedisServer
from tests.redis_server import redis_server as start_redis_server
from tests.running_app import Chat, Frame, RunningApp, ended, events, start_app, streamed_text
from tests.running_app import http_json as http

pytestmark = pytest.mark.anyio

LEASE_MS = 1500
BIG = "x" * 2_000_000  # written in 256-byte chunks: still running when the test acts
SLOW_WRITES = {"TOOL_CHUNK_BYTES": "256", "MAX_FILE_BYTES": "20000000"}


def create_file(tool_id: str, path: str, content: str = "hello") -> dict[str, Any]:
    return {"id": tool_id, "name": "create_file", "input": {"path": path, "content": content}}


@dataclass
class Cluster:
    """Workers on one PostgreSQL, one Redis and one workspace; each its own process."""

    model: ModelServer
    folder: Path
    env: dict[str, str]
    redis_server: RedisServer
    apps: list[RunningApp] = field(default_factory=lambda: list[RunningApp]())

    @property
    def workspace(self) -> Path:
        return Path(self.env["WORKSPACE_DIR"])

    def start(self, *args: str, **env: str) -> RunningApp:
        app = start_app(
            self.model, self.folder / f"worker{len(self.apps)}", *args, **{**self.env, **env}
        )
        self.apps.append(app)
        return app

    def stop(self) -> None:
        for app in self.apps:
            app.stop()


def _cluster(model: ModelServer, folder: Path, database: str, redis: RedisServer) -> Cluster:
    env = {
        "DATABASE_URL": database,
        "REDIS_URL": redis.url,
        "TURN_LEASE_MS": str(LEASE_MS),
        "WORKSPACE_DIR": str(folder / "workspace"),
        "DATA_DIR": str(folder / "data"),
        "RESUME_GRACE_S": "60",
    }
    (folder / "workspace").mkdir(parents=True, exist_ok=True)
    return Cluster(model, folder, env, redis)


@pytest.fixture(scope="module")
def _module_redis() -> Iterator[RedisServer]:
    with start_redis_server() as server:
        yield server


@pytest.fixture(scope="module")
def trio(
    _model_server: ModelServer,
    _run_postgres: str,
    _module_redis: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningApp, RunningApp, RunningApp]]:
    """Three workers A, B and C, kept for the tests in which none of them dies."""
    cluster = _cluster(_model_server, tmp_path_factory.mktemp("trio"), _run_postgres, _module_redis)
    try:
        yield cluster.start(), cluster.start(), cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def cluster(
    model: ModelServer, _run_postgres: str, redis_server: RedisServer, tmp_path: Path
) -> Iterator[Cluster]:
    """Workers of this test's own (on its own Redis), for the tests that kill them."""
    made = _cluster(model, tmp_path, _run_postgres, redis_server)
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture
async def store(_run_postgres: str) -> AsyncIterator[Store]:
    opened = await Store.open(_run_postgres)
    yield opened
    await opened.close()


@asynccontextmanager
async def started(app: RunningApp, model: ModelServer) -> AsyncGenerator[Chat]:
    """A stored conversation on `app` (one reply), its socket open."""
    model.script({"text": ["Hello."]}, match="open this conversation")
    async with Chat(app.ws_url(locale="en")) as chat:
        await chat.reply_to("open this conversation")
        yield chat


def follower(app: RunningApp, chat: Chat) -> Chat:
    """A second tab of `chat`'s conversation, on `app`."""
    url = app.ws_url(session_id=chat.session_id, last_seq=str(chat.last_seq), locale="en")
    return Chat(url)


def codes(frames: list[Frame]) -> list[str]:
    return [frame["data"]["detail"]["code"] for frame in events(frames, "error")]


def numbered(frames: list[Frame]) -> list[int]:
    return [frame["seq"] for frame in frames if "seq" in frame]


def assert_once_in_order(seqs: list[int]) -> None:
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs


async def stored_last(store: Store, session_id: str, role: str) -> None:
    """Wait until the conversation's last stored message is `role`'s (the app stores a
    person's message while the request to Claude goes out)."""
    with anyio.fail_after(10):
        while True:
            stored = await store.load_conversation(session_id)
            if stored is not None and stored.history and stored.history[-1]["role"] == role:
                return
            await anyio.sleep(0.02)


def kill(app: RunningApp, how: signal.Signals = signal.SIGKILL) -> None:
    app.process.send_signal(how)
    app.process.wait(15)


def taken_over(app: RunningApp) -> bool:
    return any(e.get("event") == "turn_taken_over" for e in app.log_events())


# ── one conversation on several workers ────────────────────────────────────────────────────
async def test_approve_on_b_a_call_whose_turn_runs_on_a_both_tabs_see_one_stream(
    trio: tuple[RunningApp, RunningApp, RunningApp], model: ModelServer
) -> None:
    a, b, _ = trio
    async with started(a, model) as chat_a, follower(b, chat_a) as chat_b:
        model.script({"text": ["Writing."], "tool_uses": [create_file("toolu_ab", "ab.txt")]})
        await chat_a.say("write ab.txt")
        seen_a = await chat_a.recv_until("tool_request")
        seen_b = await chat_b.recv_until("tool_request")
        assert seen_a == seen_b  # the same frames, same numbers, on both workers

        await chat_b.say("and another thing")  # the turn runs on A: B is busy
        busy = await chat_b.recv_until("error")
        assert codes(busy) == ["busy"]

        await chat_b.send("tool_approval", {"tool_use_id": "toolu_nope", "approved": True})
        refused = await chat_b.recv_until("error")  # A refused it; told through the stream
        assert codes(refused) == ["unknown_tool_call"]

        await chat_b.send("tool_approval", {"tool_use_id": "toolu_ab", "approved": True})
        rest_b = await chat_b.recv_until("assistant_message_completed")
        rest_a = await chat_a.recv_until("assistant_message_completed")
        assert ended(rest_b[-1]) == {"reason": "ok"}
        assert rest_a == refused + rest_b  # A's refusal reached both tabs, then the same reply
        assert [f["data"]["status"] for f in events(rest_b, "tool_finished")] == ["done"]

        model.script({"text": ["Next ", "one."]})  # the next turn, on the other worker
        next_b = await chat_b.reply_to("and now from B")
        next_a = await chat_a.recv_until("assistant_message_completed")
    assert ended(next_b[-1]) == {"reason": "ok"}
    assert streamed_text(next_a) == streamed_text(next_b) == "Next one."
    assert_once_in_order(numbered(seen_a + rest_a + next_a))


async def test_cancel_from_c_stops_the_reply_running_on_a(
    trio: tuple[RunningApp, RunningApp, RunningApp], model: ModelServer
) -> None:
    a, _, c = trio
    gate = "shared-cancel"
    model.script({"text": ["Long ", "reply"], "hold_after": 1, "gate": gate}, match="go on")
    try:
        async with started(a, model) as chat_a, follower(c, chat_a) as chat_c:
            await chat_a.say("go on")
            await chat_c.recv_until("ai_chunk")
            await chat_c.send("cancel", {})
            frames = await chat_a.recv_until("assistant_message_completed")
            seen_c = await chat_c.recv_until("assistant_message_completed")
    finally:
        model.release(gate)
    assert ended(frames[-1]) == {"reason": "cancelled"}
    assert ended(seen_c[-1]) == {"reason": "cancelled"}
    assert streamed_text(frames) == "Long "


async def test_a_socket_resumed_on_b_mid_stream_gets_every_frame_once_in_order(
    trio: tuple[RunningApp, RunningApp, RunningApp], model: ModelServer
) -> None:
    a, b, _ = trio
    gate = "shared-resume"
    pieces = [f"piece {n} " for n in range(12)]
    model.script({"text": pieces, "hold_after": 4, "gate": gate}, match="stream")
    try:
        async with started(a, model) as chat_a:
            await chat_a.say("stream")
            before = [await chat_a.recv() for _ in range(5)]  # some chunks, then it drops
            chat_a.abort()
        model.release(gate)
        url = b.ws_url(session_id=chat_a.session_id, last_seq=str(chat_a.last_seq), locale="en")
        async with Chat(url) as back:
            after = await back.recv_until("assistant_message_completed")
    finally:
        model.release(gate)
    assert back.first["data"]["resumed"] is True
    assert_once_in_order(numbered(before + after))
    assert streamed_text(before + after) == "".join(pieces)
    assert ended(after[-1]) == {"reason": "ok"}


async def test_a_new_conversation_resumed_on_b_at_once_gets_every_frame_once_in_order(
    trio: tuple[RunningApp, RunningApp, RunningApp], model: ModelServer
) -> None:
    """Its first frames were sent before it was stored: B finds them (stream or store) even
    when the socket comes back there before A's frame log was written."""
    a, b, _ = trio
    gate = "shared-new-resume"
    pieces = [f"first {n} " for n in range(8)]
    model.script({"text": pieces, "hold_after": 6, "gate": gate}, match="brand new")
    try:
        async with Chat(a.ws_url(locale="en")) as chat:
            await chat.say("brand new")
            before = [await chat.recv() for _ in range(4)]
            chat.abort()
        url = b.ws_url(session_id=chat.session_id, last_seq=str(chat.last_seq), locale="en")
        async with Chat(url) as back:
            held = [await back.recv() for _ in range(3)]  # streamed while A holds the rest
            model.release(gate)
            after = await back.recv_until("assistant_message_completed")
    finally:
        model.release(gate)
    assert "invalid_last_seq" not in codes(held + after)
    assert_once_in_order(numbered(before + held + after))
    assert streamed_text(before + held + after) == "".join(pieces)


async def test_a_client_with_nothing_joining_on_b_mid_stream_gets_the_history_then_the_reply(
    trio: tuple[RunningApp, RunningApp, RunningApp], model: ModelServer, store: Store
) -> None:
    a, b, _ = trio
    gate = "shared-join"
    pieces = ["Joined ", "mid ", "stream."]
    model.script({"text": pieces, "hold_after": 1, "gate": gate}, match="join me")
    try:
        async with started(a, model) as chat_a:
            await chat_a.say("join me")
            await chat_a.recv_until("ai_chunk")
            await stored_last(store, chat_a.session_id, "user")
            url = b.ws_url(session_id=chat_a.session_id, locale="en")  # no last_seq
            async with Chat(url) as back:
                shown = await back.recv_until("ai_chunk")
                model.release(gate)
                rest = await back.recv_until("assistant_message_completed")
    finally:
        model.release(gate)
    [history] = events(shown, "history")
    texts = [message.get("text") for message in history["data"]["messages"]]
    assert texts == ["open this conversation", "Hello.", "join me"]
    assert streamed_text(shown + rest) == "".join(pieces)
    assert ended(rest[-1]) == {"reason": "ok"}


async def test_a_rule_set_on_b_decides_a_call_waiting_on_a(
    trio: tuple[RunningApp, RunningApp, RunningApp], model: ModelServer
) -> None:
    a, b, _ = trio
    async with started(a, model) as chat_a:
        model.script({"text": ["Writing."], "tool_uses": [create_file("toolu_rule", "r.txt")]})
        await chat_a.say("write r.txt")
        await chat_a.recv_until("tool_request")
        rule = {"effect": "allow", "server": "workspace", "tool": "create_*"}
        status, added = http(b, "POST", "/api/rules", rule)
        try:
            frames = await chat_a.recv_until("assistant_message_completed")
        finally:
            http(b, "DELETE", f"/api/rules/{added['id']}")
    assert status == 201
    assert events(frames, "tool_decided")[0]["data"]["rule_id"] == added["id"]
    assert ended(frames[-1]) == {"reason": "ok"}


async def test_deleting_on_a_closes_the_conversations_sockets_on_b(
    trio: tuple[RunningApp, RunningApp, RunningApp], model: ModelServer
) -> None:
    a, b, _ = trio
    async with started(a, model) as chat_a, follower(b, chat_a) as tab_b:
        status, _ = http(a, "DELETE", f"/api/conversations/{chat_a.session_id}")
        assert status == 204
        for chat in (chat_a, tab_b):
            assert chat.ws is not None
            with anyio.fail_after(10):
                await chat.ws.wait_closed()
            assert chat.ws.close_code == 4404  # conversation deleted, on both workers
    status, _ = http(b, "GET", f"/api/conversations/{chat_a.session_id}")
    assert status == 404


async def test_a_lost_lease_stops_the_turn_and_another_worker_ends_it_once(
    trio: tuple[RunningApp, RunningApp, RunningApp],
    model: ModelServer,
    _module_redis: RedisServer,
    store: Store,
) -> None:
    a, _, _ = trio
    redis: Redis = connect(_module_redis.url)
    gate = "shared-lease-lost"
    model.script({"text": ["Cut ", "here"], "hold_after": 1, "gate": gate}, match="stream")
    try:
        async with started(a, model) as chat_a:
            await chat_a.say("stream")
            first = await chat_a.recv_until("ai_chunk")
            key = f"gatehouse:turn:{chat_a.session_id}"
            await redis.set(key, "a-worker-that-stalled", px=60_000)  # pyright: ignore[reportUnknownMemberType]
            await wait_until(
                lambda: any(e.get("event") == "turn_stopped_lease_lost" for e in a.log_events())
            )
            model.release(gate)  # A streams no more of it: its turn was stopped
            await redis.delete(key)  # the stalled one never comes back: its lease runs out
            rest = await chat_a.recv_until("assistant_message_completed")
    finally:
        model.release(gate)
        await redis.aclose()
    assert ended(rest[-1]) == {"reason": "error"}
    assert "stream_interrupted" in codes(rest)
    assert streamed_text(first + rest) == "Cut "
    assert_once_in_order(numbered(first + rest))
    stored = await store.load_conversation(chat_a.session_id)
    assert stored is not None
    assert stored.history[-1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "Cut "}],
    }
    assert stored.stopped[-1] is True


async def test_idle_frames_are_compacted_and_a_late_resume_on_another_worker_gets_the_history(
    cluster: Cluster, model: ModelServer, store: Store
) -> None:
    """No worker knows when the others are done with a conversation's frames: a conversation
    left alone for FRAME_RETENTION_S has them dropped. A worker that loaded it before then
    learns it at the next resume and sends the history, not a replay with a hole in it."""
    a, b = (cluster.start(FRAME_RETENTION_S="3") for _ in range(2))
    async with started(a, model) as chat_a:
        model.script({"text": ["Kept ", "in ", "the ", "history."]})
        reply = await chat_a.reply_to("and a second reply")
        first_chunk = events(reply, "ai_chunk")[0]["seq"]
        async with follower(b, chat_a):  # B loads it before the sweep
            with anyio.fail_after(20):
                while not await store.compacted_seq(chat_a.session_id):
                    await anyio.sleep(0.05)
            url = b.ws_url(session_id=chat_a.session_id, last_seq=str(first_chunk), locale="en")
            async with Chat(url) as late:
                shown = await late.recv_until("history")
    assert await store.frames_after(chat_a.session_id, 0) == []
    [history] = events(shown, "history")
    texts = [message.get("text") for message in history["data"]["messages"]]
    assert texts[2:] == ["and a second reply", "Kept in the history."]


# ── workers that die ───────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
async def test_the_owner_stopping_while_an_approval_waits_is_taken_over_within_the_lease(
    cluster: Cluster, model: ModelServer, how: signal.Signals
) -> None:
    a, b = cluster.start(), cluster.start()
    async with started(a, model) as chat_a, follower(b, chat_a) as chat_b:
        model.script({"text": ["Writing."], "tool_uses": [create_file("toolu_kill", "k.txt")]})
        await chat_a.say("write k.txt")
        asked = await chat_b.recv_until("tool_request")
        killed_at = time.monotonic()
        kill(a, how)
        await wait_until(lambda: taken_over(b), timeout_s=15)
        took_s = time.monotonic() - killed_at
        model.script({"text": ["Done."]})
        await chat_b.send("tool_approval", {"tool_use_id": "toolu_kill", "approved": True})
        rest = await chat_b.recv_until("assistant_message_completed")
    assert took_s < 3 * LEASE_MS / 1000, took_s
    assert ended(rest[-1]) == {"reason": "ok"}
    assert len(events(asked + rest, "tool_request")) == 1  # asked once
    assert (cluster.workspace / "k.txt").read_text() == "hello"
    assert_once_in_order(numbered(asked + rest))


async def test_an_approval_sent_while_the_dead_owners_lease_runs_waits_for_the_takeover(
    cluster: Cluster, model: ModelServer
) -> None:
    """The person approves on B just after A died: B holds the decision until A's lease ends
    and the turn is taken over, then decides the call: no `owner_unreachable`, nothing for
    the person to send again."""
    a, b = cluster.start(), cluster.start()
    async with started(a, model) as chat_a, follower(b, chat_a) as chat_b:
        model.script({"text": ["Writing."], "tool_uses": [create_file("toolu_held", "h.txt")]})
        await chat_a.say("write h.txt")
        asked = await chat_b.recv_until("tool_request")
        kill(a)
        model.script({"text": ["Done."]})
        await chat_b.send("tool_approval", {"tool_use_id": "toolu_held", "approved": True})
        rest = await chat_b.recv_until("assistant_message_completed")
    assert codes(rest) == []
    assert ended(rest[-1]) == {"reason": "ok"}
    assert len(events(asked + rest, "tool_request")) == 1  # asked once
    assert (cluster.workspace / "h.txt").read_text() == "hello"
    assert taken_over(b)


async def test_sigkill_mid_stream_keeps_the_partial_text_marked_interrupted(
    cluster: Cluster, model: ModelServer, store: Store
) -> None:
    a, b = cluster.start(), cluster.start()
    gate = "shared-kill-stream"
    model.script({"text": ["Half a ", "reply"], "hold_after": 1, "gate": gate}, match="stream")
    try:
        async with started(a, model) as chat_a, follower(b, chat_a) as chat_b:
            await chat_a.say("stream")
            first = await chat_b.recv_until("ai_chunk")
            await stored_last(store, chat_a.session_id, "user")  # the person's message is kept
            kill(a)
            rest = await chat_b.recv_until("assistant_message_completed")
            model.script({"text": ["Fine."]}, match="again")
            after = await chat_b.reply_to("again, on B")
    finally:
        model.release(gate)
    assert streamed_text(first + rest) == "Half a "
    assert "stream_interrupted" in codes(rest)
    assert ended(rest[-1]) == {"reason": "error"}
    assert_once_in_order(numbered(first + rest + after))
    assert ended(after[-1]) == {"reason": "ok"}
    stored = await store.load_conversation(chat_a.session_id)
    assert stored is not None
    texts = [m["content"][0].get("text") for m in stored.history]
    assert texts[-4:] == ["stream", "Half a ", "again, on B", "Fine."]
    assert stored.stopped[-3] is True


async def test_sigkill_mid_tool_write_reports_it_interrupted_and_leaves_no_half_file(
    cluster: Cluster, model: ModelServer
) -> None:
    a, b = cluster.start(**SLOW_WRITES), cluster.start(**SLOW_WRITES)
    async with started(a, model) as chat_a, follower(b, chat_a) as chat_b:
        model.script({"text": ["Big."], "tool_uses": [create_file("toolu_big", "big.txt", BIG)]})
        await chat_a.say("write big.txt")
        await chat_b.recv_until("tool_request")
        await chat_b.send("tool_approval", {"tool_use_id": "toolu_big", "approved": True})
        first = await chat_b.recv_until("tool_chunk")  # A writes it
        kill(a)
        rest = await chat_b.recv_until("assistant_message_completed")
    assert "tool_interrupted" in codes(rest)
    assert ended(rest[-1]) == {"reason": "ok"}  # Claude was told, and answered
    assert not (cluster.workspace / "big.txt").exists()
    leftovers = [p.name for p in cluster.workspace.iterdir()]
    assert all(name.endswith(".gatehouse-partial") for name in leftovers), leftovers
    assert_once_in_order(numbered(first + rest))


async def test_redis_restarted_while_streaming_loses_no_stored_frame(
    cluster: Cluster, model: ModelServer, store: Store
) -> None:
    a, b = cluster.start(), cluster.start()
    gate = "shared-redis-restart"
    pieces = [f"part {n} " for n in range(30)]
    model.script({"text": pieces, "hold_after": 10, "gate": gate}, match="restart")
    try:
        async with started(a, model) as chat_a, follower(b, chat_a) as chat_b:
            start = chat_a.last_seq
            await chat_a.say("stream through a restart")
            first_b = await chat_b.recv_until("ai_chunk", text="part 9 ")
            cluster.redis_server.restart()
            model.release(gate)
            rest_b = await chat_b.recv_until("assistant_message_completed")
            seen_a = await chat_a.recv_until("assistant_message_completed")
    finally:
        model.release(gate)
    assert streamed_text(seen_a) == "".join(pieces)
    assert streamed_text(first_b + rest_b) == "".join(pieces)
    assert_once_in_order(numbered(first_b + rest_b))
    assert ended(rest_b[-1]) == {"reason": "ok"}
    shown = [frame for frame in seen_a if "seq" in frame]
    with anyio.fail_after(10):  # A writes its frame log in batches, the last one at its release
        while len(logged := await store.frames_after(chat_a.session_id, start)) < len(shown):
            await anyio.sleep(0.02)
    assert [seq for seq, _ in logged] == list(range(start + 1, start + 1 + len(logged)))
    assert [json.loads(text) for _, text in logged] == shown


async def test_serve_with_two_workers_starts_and_serves(
    cluster: Cluster, model: ModelServer
) -> None:
    app = cluster.start("--workers", "2")
    model.script({"text": ["From ", "a worker."]})
    async with Chat(app.ws_url(locale="en")) as chat:
        frames = await chat.reply_to("hello workers")
    assert streamed_text(frames) == "From a worker."
    assert app.get("/health")[0] == 200
