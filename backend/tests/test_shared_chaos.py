"""A bounded chaos run over several workers (issue 17): conversations spread over three
workers while owners are killed (SIGKILL) and started again at random. Afterwards every stored
history is valid for the Messages API (the model server also refuses any request that is not),
and every reply a client saw complete equals what the model server sent, each chunk once.

What it sent is looked up per request, not assumed from the message: when a worker dies
before a turn's request goes out, that message and the next merge into one user turn (roles
must alternate), and the model server answers it with the first script that matches."""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.to_thread
import pytest
from websockets.exceptions import WebSocketException

from gatehouse.history_repair import for_claude
from gatehouse.store import Store
from tests.model_server import ModelServer, last_user_text
from tests.redis_server import RedisServer
from tests.running_app import Chat, Frame, RunningApp, start_app, streamed_text

pytestmark = pytest.mark.anyio

CONVERSATIONS = 200
TURNS = 3
KILLS = 10
PIECES = 12
PIECE_DELAY_MS = 60  # a reply streams for ~0.7 s
STARTS_OVER_S = 20.0  # conversations start spread over this, so kills meet running turns
SEED = int(os.environ.get("CHAOS_SEED", "17"))  # another seed, another run of kills


class Workers:
    """Three workers on one database, Redis and workspace; killed and replaced at random."""

    def __init__(self, model: ModelServer, folder: Path, database: str, redis_url: str) -> None:
        self.model = model
        self.folder = folder
        self.env = {
            "DATABASE_URL": database,
            "REDIS_URL": redis_url,
            "TURN_LEASE_MS": "1500",
            "WORKSPACE_DIR": str(folder / "workspace"),
            "DATA_DIR": str(folder / "data"),
            # every socket of the run comes from 127.0.0.1
            "MAX_CONNECTIONS_PER_CLIENT": "1000",
        }
        self.started = 0
        self.live: list[RunningApp] = []
        self.all: list[RunningApp] = []

    def start(self) -> RunningApp:
        app = start_app(self.model, self.folder / f"worker{self.started}", **self.env)
        self.started += 1
        self.live.append(app)
        self.all.append(app)
        return app

    def kill(self, app: RunningApp) -> None:
        self.live.remove(app)
        app.process.send_signal(signal.SIGKILL)
        app.process.wait(15)

    def stop(self) -> None:
        for app in self.all:
            app.stop()


@pytest.fixture
def workers(
    model: ModelServer, _run_postgres: str, redis_server: RedisServer, tmp_path: Path
) -> Iterator[Workers]:
    made = Workers(model, tmp_path, _run_postgres, redis_server.url)
    try:
        for _ in range(3):
            made.start()
        yield made
    finally:
        made.stop()


def served(model: ModelServer, message: str) -> list[str]:
    """The text the model server streamed for each request whose user turn ended with
    `message`."""
    return [
        "".join(request.reply.get("text", []))
        for request in model.requests
        if request.reply is not None and last_user_text(request.body).endswith(message)
    ]


async def test_conversations_over_three_workers_survive_owners_killed_at_random(
    workers: Workers, model: ModelServer, _run_postgres: str
) -> None:
    rng = random.Random(SEED)
    completed: dict[str, str] = {}  # what a client saw of each reply that ended "ok"
    received: dict[str, list[str]] = {}  # each message's frames as `seq event`, to explain
    sessions: list[str] = []
    cut = 0  # sockets lost with their worker mid-conversation
    unstored = 0  # new conversations lost with their worker before their first message was stored

    async def converse(number: int, start_s: float) -> None:
        await anyio.sleep(start_s)
        session_id = ""
        last_seq = 0
        for turn in range(TURNS):
            message = f"c{number}t{turn}"
            pieces = [f"{message}p{k} " for k in range(PIECES)]
            model.script({"text": pieces, "delay_ms": PIECE_DELAY_MS}, match=message)
            said = False
            seen: list[Frame] = []
            trail: list[str] = []  # connections and frames, to explain a failure
            with anyio.move_on_after(30):  # a message lost with its worker is given up
                while True:
                    app = rng.choice(workers.live)
                    query = {"locale": "en"}
                    if session_id:
                        query |= {"session_id": session_id, "last_seq": str(last_seq)}
                    try:
                        async with Chat(app.ws_url(**query), timeout=10) as chat:
                            if chat.session_id != session_id:
                                if session_id:  # its worker died before it was stored
                                    nonlocal unstored
                                    unstored += 1
                                    sessions.remove(session_id)
                                    said = False  # the message went with it: say it again
                                    seen, trail = [], []
                                session_id = chat.session_id
                                sessions.append(session_id)
                                last_seq = 0
                            trail.append(f"worker {workers.all.index(app)} after {last_seq}")
                            last_seq = max(last_seq, chat.last_seq)
                            if not said:
                                await chat.say(message)
                                said = True
                            while True:
                                frame = await chat.recv()
                                seen.append(frame)
                                trail.append(f"{frame.get('seq')} {frame['event']}")
                                last_seq = max(last_seq, frame.get("seq", 0))
                                if frame["event"] == "assistant_message_completed":
                                    break
                    except (WebSocketException, OSError, TimeoutError):
                        nonlocal cut
                        cut += 1
                        continue  # its worker died: resume on another one
                    break
            if seen and seen[-1]["event"] == "assistant_message_completed":
                if seen[-1]["data"].get("reason") == "ok":
                    completed[message] = streamed_text(seen)
                    received[message] = trail

    async def chaos() -> None:
        for _ in range(KILLS):
            await anyio.sleep(rng.uniform(0.5, 1.5))
            victim = rng.choice(workers.live)
            workers.kill(victim)
            await anyio.to_thread.run_sync(workers.start)

    with anyio.fail_after(240):
        async with anyio.create_task_group() as group:
            group.start_soon(chaos)
            for number in range(CONVERSATIONS):
                group.start_soon(converse, number, rng.uniform(0, STARTS_OVER_S))

    assert cut > 0  # the kills met running conversations
    assert len(completed) >= CONVERSATIONS  # most replies complete despite the kills
    assert unstored <= KILLS  # only a conversation whose first message met a kill
    for message, text in completed.items():
        assert text in served(model, message), (message, received[message])  # each chunk once
    store = await Store.open(_run_postgres)
    try:
        for session_id in sessions:
            stored = await store.load_conversation(session_id)
            assert stored is not None
            assert for_claude(stored.history).changes == [], session_id
    finally:
        await store.close()
