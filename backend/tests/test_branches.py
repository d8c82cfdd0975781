"""Retry and edit & branch, end to end: the real app, the real SDK and the local model server.

A retried reply and an edited message are siblings of what they replace; the old branch is
kept, switching brings it back, Claude is sent the active branch only, and the branches
survive a restart (SQLite and PostgreSQL). Ids from the client name messages of the socket's
own conversation only.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from gatehouse.store import Store
from gatehouse.store import database_url as async_url
from gatehouse.turn import CONTINUE_TEXT
from tests.model_server import ModelServer
from tests.postgres import postgres_server
from tests.running_app import (
    AppFactory,
    Chat,
    Frame,
    RunningApp,
    ended,
    events,
    streamed_text,
)
from tests.test_store import _migrate  # pyright: ignore[reportPrivateUsage]

pytestmark = pytest.mark.anyio


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def _assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": "text", "text": text}]}


def _shown(history: Frame) -> list[tuple[str, str]]:
    assert history["event"] == "history", history
    return [(m["role"], m["text"]) for m in history["data"]["messages"]]


def _branch(history: Frame, index: int) -> dict[str, Any] | None:
    return history["data"]["messages"][index].get("branch")


async def _history(chat: Chat) -> Frame:
    return events(await chat.recv_until("history"), "history")[-1]


async def test_retry_after_a_complete_reply_keeps_the_old_reply_as_a_branch(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"text": ["first answer"]})
    model.script({"text": ["second answer"]})
    async with Chat(app.ws_url()) as chat:
        first = await chat.reply_to("question")
        await chat.send("retry", {})
        shown = await _history(chat)
        again = await chat.recv_until("assistant_message_completed")
        await chat.send("switch_branch", {"message_id": first[-1]["data"]["ids"]["reply_id"]})
        switched = await _history(chat)
    # The retry's request is the same history: the old reply is not sent.
    assert model.requests[1].body["messages"] == [_user("question")]
    assert _shown(shown) == [("user", "question")]
    assert streamed_text(again) == "second answer"
    ids = again[-1]["data"]["ids"]
    old_reply = first[-1]["data"]["ids"]["reply_id"]
    assert ids["message_id"] == first[-1]["data"]["ids"]["message_id"]
    assert ids["branch"] == {"index": 1, "count": 2, "siblings": [old_reply, ids["reply_id"]]}
    assert _shown(switched) == [("user", "question"), ("assistant", "first answer")]
    assert _branch(switched, 1) == {"index": 0, "count": 2, "siblings": ids["branch"]["siblings"]}


async def test_retry_after_an_error_answers_the_same_message_again(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"http_error": {"status": 401, "type": "authentication_error", "message": "no"}})
    model.script({"text": ["now it works"]})
    async with Chat(app.ws_url()) as chat:
        failed = await chat.reply_to("question")
        await chat.send("retry", {})
        again = await chat.recv_until("assistant_message_completed")
    assert ended(failed[-1]) == {"reason": "error"}
    assert ended(again[-1]) == {"reason": "ok"}
    assert streamed_text(again) == "now it works"
    assert model.requests[-1].body["messages"] == [_user("question")]
    assert "branch" not in again[-1]["data"]["ids"]  # nothing was replaced: no alternative


async def test_retry_after_a_stop_replaces_the_partial_reply(
    app: RunningApp, model: ModelServer
) -> None:
    gate = "branches-stop"
    model.script({"text": ["partial ", "rest"], "hold_after": 1, "gate": gate})
    model.script({"text": ["whole answer"]})
    try:
        async with Chat(app.ws_url()) as chat:
            await chat.say("question")
            await chat.recv_until("ai_chunk")
            await chat.send("cancel", {})
            stopped = await chat.recv_until("assistant_message_completed")
            await chat.send("retry", {})
            again = await chat.recv_until("assistant_message_completed")
            await chat.reply_to("next")
    finally:
        model.release(gate)
    assert ended(stopped[-1]) == {"reason": "cancelled"}
    assert streamed_text(again) == "whole answer"
    assert model.requests[1].body["messages"] == [_user("question")]
    assert model.requests[2].body["messages"] == [
        _user("question"),
        _assistant("whole answer"),
        _user("next"),
    ]
    assert again[-1]["data"]["ids"]["branch"]["count"] == 2


async def test_retry_of_a_reply_that_ran_a_tool_leaves_its_call_and_file_on_the_old_branch(
    app: RunningApp, model: ModelServer
) -> None:
    use = {"id": "toolu_kept", "name": "create_file", "input": {"path": "kept.txt", "content": "x"}}
    model.script({"text": ["Writing."], "tool_uses": [use]})
    model.script({"text": ["Done."]})
    model.script({"text": ["No file this time."]})
    async with Chat(app.ws_url()) as chat:
        await chat.say("write kept.txt")
        await chat.recv_until("tool_request")
        await chat.send("tool_approval", {"tool_use_id": "toolu_kept", "approved": True})
        first = await chat.recv_until("assistant_message_completed")
        await chat.send("retry", {})
        await chat.recv_until("assistant_message_completed")
        await chat.send("switch_branch", {"message_id": first[-1]["data"]["ids"]["reply_id"]})
        switched = await _history(chat)
    # The retry starts from the person's message: no call, no result of the old branch.
    assert model.requests[2].body["messages"] == [_user("write kept.txt")]
    assert (app.workspace / "kept.txt").read_text() == "x"
    [card] = switched["data"]["messages"][1]["tool_calls"]
    assert (card["id"], card["status"]) == ("toolu_kept", "done")


async def test_a_branch_goes_back_to_claude_with_its_hidden_continue_turn(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"text": ["The answer "], "stop_reason": "max_tokens"})
    model.script({"text": ["is 42."]})
    model.script({"text": ["Another answer."]})
    async with Chat(app.ws_url()) as chat:
        cut = await chat.reply_to("question")
        await chat.send("continue", {})
        await chat.recv_until("assistant_message_completed")
        await chat.send("retry", {})
        await chat.recv_until("assistant_message_completed")
        await chat.send("switch_branch", {"message_id": cut[-1]["data"]["ids"]["reply_id"]})
        switched = await _history(chat)
        await chat.reply_to("next")
    asked = _user(CONTINUE_TEXT)
    assert model.requests[2].body["messages"] == [_user("question")]
    assert _shown(switched) == [("user", "question"), ("assistant", "The answer is 42.")]
    assert model.requests[3].body["messages"] == [
        _user("question"),
        _assistant("The answer "),
        asked,
        _assistant("is 42."),
        _user("next"),
    ]


async def test_retry_with_nothing_to_retry_or_while_a_reply_runs_is_refused(
    app: RunningApp, model: ModelServer
) -> None:
    gate = "branches-busy"
    model.script({"text": ["slow ", "reply"], "hold_after": 1, "gate": gate})
    try:
        async with Chat(app.ws_url()) as chat:
            await chat.send("retry", {})
            nothing = await chat.recv_until("error")
            await chat.say("question")
            await chat.recv_until("ai_chunk")
            await chat.send("retry", {})
            busy = await chat.recv_until("error")
            model.release(gate)
            await chat.recv_until("assistant_message_completed")
    finally:
        model.release(gate)
    assert nothing[-1]["data"]["detail"] == {"code": "nothing_to_retry"}
    assert busy[-1]["data"]["detail"] == {"code": "busy"}
    assert len(model.requests) == 1


async def test_an_edit_branches_and_claude_gets_the_active_branch_only(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as chat:
        await chat.reply_to("one")
        second = await chat.reply_to("two")
        asked = second[-1]["data"]["ids"]["message_id"]
        await chat.send("edit_message", {"message_id": asked, "text": "TWO"})
        edited = await _history(chat)
        await chat.recv_until("assistant_message_completed")
        await chat.reply_to("three")
        await chat.send("switch_branch", {"message_id": asked})
        switched = await _history(chat)
        await chat.reply_to("back on the first branch")
    # The edit's request holds the edited message, not the one it replaced nor its reply.
    assert model.requests[2].body["messages"] == [
        _user("one"),
        _assistant("Echo: one"),
        _user("TWO"),
    ]
    assert model.requests[3].body["messages"] == [
        _user("one"),
        _assistant("Echo: one"),
        _user("TWO"),
        _assistant("Echo: TWO"),
        _user("three"),
    ]
    assert _shown(edited) == [("user", "one"), ("assistant", "Echo: one"), ("user", "TWO")]
    new_id = edited["data"]["messages"][2]["id"]
    assert _branch(edited, 2) == {"index": 1, "count": 2, "siblings": [asked, new_id]}
    # Switching back shows the old branch, its reply included, and Claude goes on from it.
    assert _shown(switched) == [
        ("user", "one"),
        ("assistant", "Echo: one"),
        ("user", "two"),
        ("assistant", "Echo: two"),
    ]
    assert _branch(switched, 2) == {"index": 0, "count": 2, "siblings": [asked, new_id]}
    assert model.requests[-1].body["messages"] == [
        _user("one"),
        _assistant("Echo: one"),
        _user("two"),
        _assistant("Echo: two"),
        _user("back on the first branch"),
    ]


async def test_a_foreign_or_unknown_message_id_is_refused(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as other:
        await other.reply_to("someone else's")
        await other.reply_to("someone else's second")
    async with Chat(app.ws_url()) as chat:
        await chat.reply_to("mine")
        refusals: list[Frame] = []
        for event, data in [
            ("edit_message", {"message_id": 2, "text": "not mine"}),  # only in the other one
            ("switch_branch", {"message_id": 3}),
            ("edit_message", {"message_id": 1, "text": "a reply is not mine to edit"}),
            ("switch_branch", {"message_id": 10**12}),
        ]:
            await chat.send(event, data)
            refusals.append((await chat.recv_until("error"))[-1])
        await chat.send("edit_message", {"message_id": -1, "text": "x"})
        invalid = await chat.recv_until("error")
        await chat.send("edit_message", {"message_id": 0, "text": ""})
        empty = await chat.recv_until("error")
    assert [f["data"]["detail"]["code"] for f in refusals] == ["unknown_message"] * 4
    assert invalid[-1]["data"]["detail"]["code"] == "invalid_payload"
    assert empty[-1]["data"]["detail"]["code"] == "invalid_payload"
    assert len(model.requests) == 3  # nothing refused reached Claude


async def test_an_edit_longer_than_a_message_may_be_is_refused(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(MAX_MESSAGE_CHARS="10")
    async with Chat(app.ws_url()) as chat:
        done = await chat.reply_to("short")
        asked = done[-1]["data"]["ids"]["message_id"]
        await chat.send("edit_message", {"message_id": asked, "text": "x" * 11})
        refused = await chat.recv_until("error")
    assert refused[-1]["data"]["detail"]["code"] == "message_too_long"
    assert len(model.requests) == 1


async def test_branches_survive_a_restart(
    app_factory: AppFactory, model: ModelServer, kept_env: dict[str, str]
) -> None:
    first = app_factory(**kept_env)
    async with Chat(first.ws_url()) as chat:
        done = await chat.reply_to("original")
        asked = done[-1]["data"]["ids"]["message_id"]
        await chat.send("edit_message", {"message_id": asked, "text": "edited"})
        await chat.recv_until("assistant_message_completed")
    first.process.send_signal(signal.SIGTERM)
    first.process.wait(15)

    second = app_factory(**kept_env)
    async with Chat(second.ws_url(session_id=chat.session_id)) as back:
        history = await back.recv()
        await back.send("switch_branch", {"message_id": asked})
        switched = await _history(back)
        await back.reply_to("more")
    assert _shown(history) == [("user", "edited"), ("assistant", "Echo: edited")]
    assert (_branch(history, 0) or {}).get("count") == 2
    assert _shown(switched) == [("user", "original"), ("assistant", "Echo: original")]
    assert model.requests[-1].body["messages"] == [
        _user("original"),
        _assistant("Echo: original"),
        _user("more"),
    ]


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own (the shared PostgreSQL one is already upgraded)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with postgres_server() as url:
        yield url


async def test_conversations_from_before_0010_are_one_branch_each(fresh_database: str) -> None:
    engine = create_async_engine(async_url(fresh_database))
    async with engine.begin() as connection:
        await connection.run_sync(_migrate, "0009")
        for conversation in ("old", "other"):
            await connection.execute(
                text(
                    "insert into conversations (id, title, locale, created_at, updated_at) "
                    "values (:id, 't', 'en', 1, 1)"
                ),
                {"id": conversation},
            )
            for position, role in enumerate(["user", "assistant", "user", "assistant"]):
                await connection.execute(
                    text(
                        "insert into messages (conversation_id, position, role, content, stopped)"
                        " values (:conversation, :position, :role, :content, false)"
                    ),
                    {
                        "conversation": conversation,
                        "position": position,
                        "role": role,
                        "content": f'[{{"type": "text", "text": "{conversation}{position}"}}]',
                    },
                )
    await engine.dispose()
    store = await Store.open(fresh_database)
    try:
        loaded = await store.load_conversation("old")
    finally:
        await store.close()
    assert loaded is not None
    assert [m["content"][0]["text"] for m in loaded.history] == ["old0", "old1", "old2", "old3"]
    assert loaded.positions == [0, 1, 2, 3]
    assert loaded.tree.parents == {0: None, 1: 0, 2: 1, 3: 2}
    assert [loaded.tree.branch_point(p) for p in loaded.positions] == [None] * 4
