"""The socket's contract: frame validation, origin and token checks at the handshake."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import InvalidStatus

from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, RunningApp, ended, events, streamed_text

pytestmark = pytest.mark.anyio

BAD_FRAMES: list[tuple[str | bytes, str]] = [
    ("not json", "invalid_json"),
    ('{"event": "user_message", "data": {"text": "unterminated', "invalid_json"),
    ("[1, 2]", "invalid_payload"),
    ('{"event": "launch_missiles", "data": {}}', "invalid_payload"),
    ('{"event": "user_message"}', "invalid_payload"),
    ('{"event": "user_message", "data": {"text": ""}}', "invalid_payload"),
    ('{"event": "user_message", "data": {"text": 42}}', "invalid_payload"),
    ('{"event": "user_message", "data": {"text": "hi", "extra": 1}}', "invalid_payload"),
    (
        '{"event": "tool_approval", "data": {"tool_use_id": "t", "approved": "yes"}}',
        "invalid_payload",
    ),
    (b'{"event": "user_message", "data": {"text": "\xff"}}', "invalid_json"),
]


@pytest.mark.parametrize(("raw", "reason"), BAD_FRAMES)
async def test_bad_frames_get_an_error_and_the_socket_stays_usable(
    app: RunningApp, model: ModelServer, raw: str | bytes, reason: str
) -> None:
    async with Chat(app.ws_url()) as chat:
        await chat.send_raw(raw)
        error = await chat.recv()
        frames = await chat.reply_to("after the bad frame")
    assert error["event"] == "error"
    assert error["data"]["message"] == reason
    assert error["data"]["detail"]["code"] == reason
    assert error["data"]["detail"]["errors"]
    assert "Traceback" not in json.dumps(error)
    assert streamed_text(frames) == "Echo: after the bad frame"
    assert len(model.requests) == 1


async def test_an_approval_for_no_pending_call_is_an_error(app: RunningApp) -> None:
    async with Chat(app.ws_url(locale="en")) as chat:
        await chat.send("tool_approval", {"tool_use_id": "toolu_nobody", "approved": True})
        error = await chat.recv()
    assert error["data"]["detail"] == {"code": "unknown_tool_call", "tool_use_id": "toolu_nobody"}
    assert error["data"]["message"] == "There is no pending tool call with that id in this session."


async def test_a_refused_origin_never_gets_a_socket(app_factory: AppFactory) -> None:
    app = app_factory(WS_ALLOWED_ORIGINS="http://good.example, http://localhost:3000")
    with pytest.raises(InvalidStatus) as refused:
        async with Chat(app.ws_url(), origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    async with Chat(app.ws_url(), origin="http://localhost:3000") as chat:
        frames = await chat.reply_to("from a good origin")
    assert streamed_text(frames) == "Echo: from a good origin"
    assert 'gatehouse_websocket_refused_total{reason="origin"} 1.0' in app.get("/metrics")[1]


async def test_the_root_path_speaks_the_protocol_too(app: RunningApp) -> None:
    async with Chat(app.ws_url("/")) as chat:
        frames = await chat.reply_to("root")
    assert streamed_text(frames) == "Echo: root"
    assert ended(events(frames, "assistant_message_completed")[0]) == {"reason": "ok"}


async def test_a_token_is_required_when_configured(app_factory: AppFactory) -> None:
    app = app_factory(AUTH_TOKEN="s3cret")
    for url in (app.ws_url(), app.ws_url(token="wrong")):
        with pytest.raises(InvalidStatus):
            async with Chat(url):
                pass
    async with Chat(app.ws_url(token="s3cret")) as chat:
        frames = await chat.reply_to("let me in")
    assert streamed_text(frames) == "Echo: let me in"
