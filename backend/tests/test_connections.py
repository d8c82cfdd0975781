"""Bare connections cost nothing: a conversation is stored with its first message, one address
holds a bounded number of sockets, and the conversation list pages with a cursor."""

from __future__ import annotations

import json
import signal
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.postgres import postgres_server
from tests.running_app import AppFactory, Chat, RunningApp

pytestmark = pytest.mark.anyio


async def test_bare_connections_store_nothing_and_a_first_message_stores_its_conversation(
    app_factory: AppFactory, tmp_path: Path
) -> None:
    database = tmp_path / "gatehouse.db"
    app = app_factory(DATABASE_URL=f"sqlite:///{database}")
    for _ in range(40):
        async with Chat(app.ws_url()) as bare:
            await bare.send_raw("{")  # a frame back (an error), but no message
            assert (await bare.recv())["data"]["message"] == "invalid_json"
    async with Chat(app.ws_url()) as chat:
        await chat.reply_to("the only one")
    app.process.send_signal(signal.SIGTERM)  # a clean stop writes every queued frame
    app.process.wait(15)
    with sqlite3.connect(database) as db:
        stored = db.execute("select id, title from conversations").fetchall()
        logged = db.execute("select distinct conversation_id from frames").fetchall()
        first_seq = db.execute("select min(first_seq) from frames").fetchone()
    assert stored == [(chat.session_id, "the only one")]
    assert logged == [(chat.session_id,)]
    assert first_seq == (1,)  # its session_created, sent before the message, is logged too


async def test_a_socket_over_the_per_address_cap_is_closed_with_1013(
    app_factory: AppFactory,
) -> None:
    app = app_factory(MAX_CONNECTIONS_PER_CLIENT="3")
    held = [Chat(app.ws_url()) for _ in range(3)]
    for chat in held:
        await chat.__aenter__()
    async with connect(app.ws_url()) as over:
        with pytest.raises(ConnectionClosed) as closed:
            await over.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1013
    assert closed.value.rcvd.reason == "too many connections"
    assert await held[0].reply_to("still served")
    for chat in held:
        await chat.__aexit__(None, None, None)
    _, metrics = app.get("/metrics")
    assert 'gatehouse_websocket_refused_total{reason="too_many_connections"} 1.0' in metrics


async def test_the_conversation_list_pages_newest_first_with_a_cursor(
    app_factory: AppFactory,
) -> None:
    app = app_factory()
    said: list[str] = []
    for n in range(5):
        async with Chat(app.ws_url()) as chat:
            await chat.reply_to(f"conversation {n}")
        said.insert(0, chat.session_id)
    pages: list[list[str]] = []
    cursor: str | None = ""
    while cursor is not None:
        body, cursor = _page(app, f"?limit=2&cursor={cursor}" if cursor else "?limit=2")
        pages.append([row["id"] for row in body])
    assert pages == [said[0:2], said[2:4], said[4:5]]
    for query in ("?cursor=not-a-cursor", "?limit=0", "?limit=201"):
        assert app.get(f"/api/conversations{query}")[0] in (400, 422), query


def _page(app: RunningApp, query: str) -> tuple[list[dict[str, str]], str | None]:
    url = f"{app.base_url}/api/conversations{query}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read()), response.headers.get("X-Next-Cursor")
    except urllib.error.HTTPError as exc:
        raise AssertionError(exc.read()) from exc


async def test_a_failure_after_accept_closes_with_1011_and_a_log_line(
    app_factory: AppFactory,
) -> None:
    with postgres_server() as url:
        app = app_factory(DATABASE_URL=url, LOG_LEVEL="info")
    # The database is gone: loading a conversation fails after the socket was accepted.
    async with connect(app.ws_url(session_id="f" * 32)) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1011
    failed = [e for e in app.log_events() if e.get("event") == "websocket_failed"]
    assert len(failed) == 1
    assert "Traceback" not in app.log()
    async with Chat(app.ws_url()) as chat:  # the server goes on; a bare socket needs no database
        assert chat.first["event"] == "session_created"
