"""The language of a socket: what the client asked for, else DEFAULT_LOCALE, and it is said."""

from __future__ import annotations

import pytest

from tests.running_app import AppFactory, Chat, RunningApp, without

pytestmark = pytest.mark.anyio


async def test_session_created_says_the_language_the_client_asked_for(app: RunningApp) -> None:
    async with Chat(app.ws_url()) as default:
        pass
    async with Chat(app.ws_url(locale="en")) as english:
        pass
    assert default.first["data"]["locale"] == "pt-BR"
    assert english.first["data"]["locale"] == "en"


async def test_a_client_that_asks_for_nothing_is_told_the_servers_default(
    app_factory: AppFactory,
) -> None:
    app = app_factory(DEFAULT_LOCALE="en")
    async with Chat(app.ws_url()) as chat:
        await chat.reply_to("hello")
    async with Chat(app.ws_url(session_id=chat.session_id)) as resumed:
        pass
    assert chat.first["data"]["locale"] == "en"
    assert without(resumed.first["data"], "settings") == {
        "session_id": chat.session_id,
        "resumed": True,
        "locale": "en",
    }
