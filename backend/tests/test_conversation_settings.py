"""Per-conversation settings (model, thinking) and the model list behind the picker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, Frame, RunningApp, events

pytestmark = pytest.mark.anyio

DEFAULTS = {"model": "claude-sonnet-4-6", "thinking": False}


async def configure(chat: Chat, **data: Any) -> Frame:
    await chat.send("configure", data)
    frames = await chat.recv_until("conversation_settings")
    return frames[-1]


async def refused(chat: Chat, data: Any) -> Frame:
    await chat.send("configure", data)
    frames = await chat.recv_until("error")
    assert events(frames, "conversation_settings") == []
    return frames[-1]


async def test_a_new_conversation_starts_with_the_defaults(
    app: RunningApp, app_factory: AppFactory
) -> None:
    async with Chat(app.ws_url()) as chat:
        assert chat.first["data"]["settings"] == DEFAULTS
    other = app_factory(ANTHROPIC_MODEL="claude-haiku-4-5", THINKING="true")
    async with Chat(other.ws_url()) as chat:
        assert chat.first["data"]["settings"] == {"model": "claude-haiku-4-5", "thinking": True}


async def test_configure_is_echoed_to_every_socket_and_used_by_the_next_reply(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as chat:
        async with Chat(app.ws_url(session_id=chat.session_id)) as other:
            echoed = await configure(chat, model="claude-opus-4-6")
            seen = (await other.recv_until("conversation_settings"))[-1]
            await chat.reply_to("which model?")
    expected = {"model": "claude-opus-4-6", "thinking": False}
    assert echoed["data"] == seen["data"] == expected
    assert [r.body["model"] for r in model.requests] == ["claude-opus-4-6"]


async def test_a_bad_configure_is_refused_with_a_clear_code_and_changes_nothing(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url(locale="en")) as chat:
        unknown = await refused(chat, {"model": "gpt-4o"})
        too_long = await refused(chat, {"model": "claude-" + "x" * 200})
        not_bool = await refused(chat, {"thinking": "yes"})
        extra = await refused(chat, {"temperature": 1})
        await chat.reply_to("still the default?")
    assert unknown["data"] == {
        "message": "That model is not available. Pick a model from the list.",
        "detail": {"code": "unknown_model"},
    }
    for frame in (too_long, not_bool, extra):
        assert frame["data"]["detail"]["code"] == "invalid_payload"
    assert model.requests[-1].body["model"] == DEFAULTS["model"]
    assert "thinking" not in model.requests[-1].body


async def test_settings_survive_a_reload_and_a_restart(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'settings.db'}"}
    first = app_factory(**env)
    async with Chat(first.ws_url()) as chat:
        await configure(chat, model="claude-haiku-4-5")  # before the first message
        await configure(chat, thinking=True)  # one field: the other is kept
        await chat.reply_to("remember this")
    async with Chat(first.ws_url(session_id=chat.session_id)) as reloaded:
        assert reloaded.first["data"]["settings"] == {"model": "claude-haiku-4-5", "thinking": True}
    first.stop()

    second = app_factory(**env)
    async with Chat(second.ws_url(session_id=chat.session_id)) as back:
        assert back.first["data"]["settings"] == {"model": "claude-haiku-4-5", "thinking": True}
        await back.recv_until("history")
        model.requests.clear()
        await back.reply_to("and now?")
    assert model.requests[-1].body["model"] == "claude-haiku-4-5"
    assert model.requests[-1].body["thinking"]["type"] == "enabled"


async def test_the_model_list_comes_from_the_api_page_by_page(
    app_factory: AppFactory, model: ModelServer
) -> None:
    many = [f"claude-test-{n:03d}" for n in range(150)]  # more than one page of 100
    model.set_models(many)
    app = app_factory()
    status, body = app.get("/api/models")
    assert status == 200
    answer = json.loads(body)
    assert [m["id"] for m in answer["models"]] == many
    assert answer["models"][0]["display_name"] == "Claude Test 000"
    assert answer["default"] == "claude-sonnet-4-6"
    assert answer["fallback"] is False
    async with Chat(app.ws_url()) as chat:  # a listed model is accepted
        assert (await configure(chat, model="claude-test-149"))["data"][
            "model"
        ] == "claude-test-149"


async def test_the_model_list_falls_back_to_the_default_when_unavailable(
    app_factory: AppFactory, model: ModelServer
) -> None:
    model.set_models(error={"status": 500, "type": "api_error", "message": "Internal error"})
    app = app_factory()
    status, body = app.get("/api/models")
    assert status == 200
    assert json.loads(body) == {
        "models": [{"id": "claude-sonnet-4-6", "display_name": "claude-sonnet-4-6"}],
        "default": "claude-sonnet-4-6",
        "fallback": True,
    }
    async with Chat(app.ws_url()) as chat:
        assert (await refused(chat, {"model": "claude-opus-4-6"}))["data"]["detail"] == {
            "code": "unknown_model"
        }
        assert (await configure(chat, model="claude-sonnet-4-6"))["data"] == DEFAULTS


async def test_the_model_list_needs_the_token_when_one_is_set(app_factory: AppFactory) -> None:
    app = app_factory(AUTH_TOKEN="s3cret")
    assert app.get("/api/models")[0] == 401
    assert app.get("/api/models", {"Authorization": "Bearer s3cret"})[0] == 200
