"""The frame log stays whole: a client's `last_seq` is read strictly and never moves the
server's numbering, so one client cannot cost other conversations their frames."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, Frame, RunningApp, streamed_text, without

pytestmark = pytest.mark.anyio

# Each was accepted before: numbers beyond any column, digits `isdigit` takes but `int` refuses
# or reads ('²', '٣'), signs, spaces, floats, and a seq the server never sent.
POISONED = ["18446744073709551616", "²", "٣", "-1", " 5", "1e3", "9" * 40, "", "99999"]
VICTIMS = 20


async def test_a_last_seq_the_server_never_sent_gets_an_error_and_the_history(
    app: RunningApp,
) -> None:
    async with Chat(app.ws_url()) as chat:
        await chat.reply_to("hello")
    for raw in POISONED:
        url = app.ws_url(session_id=chat.session_id, last_seq=quote(raw), locale="en")
        async with Chat(url) as back:
            error, history = await back.recv(), await back.recv()
        created = {"session_id": chat.session_id, "resumed": True, "locale": "en"}
        assert without(back.first["data"], "settings") == created, raw
        assert error["event"] == "error", raw
        assert error["data"]["detail"]["code"] == "invalid_last_seq"
        assert history["event"] == "history"
        assert history["data"]["messages"][0]["text"] == "hello"
    url = app.ws_url(session_id=chat.session_id, last_seq=str(chat.last_seq))
    async with Chat(url) as back:
        frames = await back.reply_to("again")
    assert frames[0]["seq"] == chat.last_seq + 1  # no claim moved the numbering
    assert streamed_text(frames) == "Echo: again"


async def test_poisoned_resumes_during_20_streams_cost_no_victim_a_frame(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'gatehouse.db'}", "LOG_LEVEL": "warning"}
    first = app_factory(**env)
    for n in range(VICTIMS):
        words = [f"v{n}w{i} " for i in range(80)]
        model.script({"text": words, "hold_after": 5, "gate": "go", "delay_ms": 2}, match=f"-{n}-")
    attack = [f"a{i} " for i in range(80)]
    model.script({"text": attack, "hold_after": 1, "gate": "go", "delay_ms": 2}, match="attack")
    victims = [Chat(first.ws_url()) for _ in range(VICTIMS)]
    for n, victim in enumerate(victims):
        await victim.__aenter__()
        await victim.say(f"victim -{n}-")
    attacker = await _poison(first)
    model.release("go")  # every stream now runs next to the attacker's
    seen = await asyncio.gather(*(_until_completed(victim) for victim in victims))
    await attacker.recv_until("assistant_message_completed")
    for chat in [*victims, attacker]:
        await chat.__aexit__(None, None, None)
    first.process.send_signal(signal.SIGTERM)
    first.process.wait(15)

    second = app_factory(**env)
    for victim, frames in zip(victims, seen, strict=True):
        async with Chat(second.ws_url(session_id=victim.session_id, last_seq="0")) as back:
            replayed = [await back.recv() for _ in frames]
        assert replayed == frames


async def _poison(app: RunningApp) -> Chat:
    """An attacker resuming its own conversation with every bad `last_seq`, then asking."""
    async with Chat(app.ws_url()) as own:
        pass
    for raw in POISONED:
        url = app.ws_url(session_id=own.session_id, last_seq=quote(raw))
        async with Chat(url) as again:
            assert (await again.recv())["data"]["detail"]["code"] == "invalid_last_seq"
    attacker = Chat(app.ws_url(session_id=own.session_id, last_seq=quote(POISONED[0])))
    await attacker.__aenter__()
    await attacker.say("attack")
    return attacker


async def _until_completed(victim: Chat) -> list[Frame]:
    return [victim.first, *await victim.recv_until("assistant_message_completed")]
