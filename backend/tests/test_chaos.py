"""Chaos: the socket is cut at random points while a reply streams and while a file is
written; the client comes back with `last_seq`. Nothing may be lost and nothing repeated."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, Frame, RunningApp, ended, events, streamed_text

pytestmark = pytest.mark.anyio

SEED = 20261126
MIN_CUTS = 50
MAX_ROUNDS = 40


@dataclass
class Survivor:
    """A client that reconnects after every cut and keeps every frame it was given."""

    app: RunningApp
    rng: random.Random
    cut_probability: float
    frames: list[Frame] = field(default_factory=lambda: list[Frame]())
    cuts: int = 0
    approved: set[str] = field(default_factory=lambda: set[str]())
    session_id: str = ""
    last_seq: int = 0

    async def turn(self, text: str) -> list[Frame]:
        start = len(self.frames)
        chat = await self._connect()
        await chat.say(text)
        while True:
            frame = await chat.recv()
            self._check_next(frame)
            self.frames.append(frame)
            await self._answer(chat, frame)
            if frame["event"] == "assistant_message_completed":
                await chat.__aexit__(None, None, None)
                return self.frames[start:]
            if self.rng.random() < self.cut_probability:
                chat.abort()
                self.cuts += 1
                chat = await self._connect()

    async def _connect(self) -> Chat:
        query = {"session_id": self.session_id, "last_seq": str(self.last_seq)}
        chat = Chat(self.app.ws_url(**query) if self.session_id else self.app.ws_url())
        await chat.__aenter__()
        if self.session_id:
            assert chat.first["seq"] == self.last_seq  # the server knows where we stand
        else:
            self.session_id, self.last_seq = chat.session_id, chat.first["seq"]
        return chat

    def _check_next(self, frame: Frame) -> None:
        if frame["event"] == "tool_request" and frame["seq"] <= self.last_seq:
            return  # a pending request is sent again on every resume, under its own seq
        assert frame["seq"] == self.last_seq + 1, (frame, self.last_seq)
        self.last_seq = frame["seq"]

    async def _answer(self, chat: Chat, frame: Frame) -> None:
        if frame["event"] == "tool_request" and frame["data"]["id"] not in self.approved:
            self.approved.add(frame["data"]["id"])
            await chat.send("tool_approval", {"tool_use_id": frame["data"]["id"], "approved": True})


async def test_random_cuts_lose_nothing_and_repeat_nothing(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(TOOL_CHUNK_BYTES="64", RESUME_GRACE_S="30", LOG_LEVEL="warning")
    rng = random.Random(SEED)
    client = Survivor(app, rng, cut_probability=0.04)
    rounds = 0
    while client.cuts < MIN_CUTS and rounds < MAX_ROUNDS:
        rounds += 1
        if rounds % 2:
            await _streamed_reply_round(client, model, rounds)
        else:
            await _file_write_round(client, model, rounds)
    assert client.cuts >= MIN_CUTS, f"only {client.cuts} cuts in {rounds} rounds (seed {SEED})"


async def _streamed_reply_round(client: Survivor, model: ModelServer, n: int) -> None:
    deltas = [f"r{n}d{i} " for i in range(120)]
    model.script({"text": deltas, "delay_ms": 1}, match=f"round {n}")
    frames = await client.turn(f"round {n}")
    assert streamed_text(frames) == "".join(deltas)
    assert ended(frames[-1]) == {"reason": "ok"}


async def _file_write_round(client: Survivor, model: ModelServer, n: int) -> None:
    content = "".join(f"{n}:{i}:ação✓\n" for i in range(900))
    path = f"chaos/round{n}.txt"
    use = {
        "id": f"toolu_chaos{n}",
        "name": "create_file",
        "input": {"path": path, "content": content},
    }
    model.script({"text": ["Writing."], "tool_uses": [use]}, match=f"round {n}")
    frames = await client.turn(f"round {n}")
    chunks = [f["data"]["chunk"] for f in events(frames, "tool_chunk")]
    assert "".join(chunks) == content
    assert (client.app.workspace / path).read_text() == content
    assert streamed_text(frames).startswith("Writing.Tool finished:")
    assert ended(frames[-1]) == {"reason": "ok"}
