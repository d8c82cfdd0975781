"""The HTTP transport under the SDK's client: kept-alive connections, a server that closes
one, and what reaches the SDK when a stream breaks. Real sockets against the model server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anthropic
import httpx2
import pytest

from gatehouse.model_transport import ModelTransport, proxy_in_environment
from tests.model_server import ModelServer
from tests.running_app import Chat, RunningApp, streamed_text

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(model: ModelServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    http = anthropic.DefaultAsyncHttpxClient(
        transport=ModelTransport(), timeout=httpx2.Timeout(2.0, connect=2.0)
    )
    sdk = anthropic.AsyncAnthropic(api_key="k", base_url=model.base_url, http_client=http)
    yield sdk
    await sdk.close()


async def streamed(sdk: anthropic.AsyncAnthropic, text: str) -> bytes:
    request = sdk.messages.with_streaming_response.create(
        model="m", max_tokens=5, messages=[{"role": "user", "content": text}], stream=True
    )
    async with request as response:
        return b"".join([chunk async for chunk in response.http_response.aiter_bytes()])


async def test_replies_one_after_another_share_one_connection(
    client: anthropic.AsyncAnthropic, model: ModelServer
) -> None:
    first, second = await streamed(client, "one"), await streamed(client, "two")
    assert b"one" in first and b"two" in second
    assert b"event: message_stop" in second
    assert model.requests[0].client_port == model.requests[1].client_port


async def test_a_connection_the_server_closed_is_not_used_again(
    client: anthropic.AsyncAnthropic, model: ModelServer
) -> None:
    model.script({"text": ["bye"], "close_after": True})
    await streamed(client, "one")
    assert b"message_stop" in await streamed(client, "two")
    ports = [r.client_port for r in model.requests]
    assert ports[-1] != ports[0]


async def test_a_body_cut_short_is_a_read_error_and_the_next_reply_works(
    client: anthropic.AsyncAnthropic, model: ModelServer
) -> None:
    model.script({"text": ["a", "b", "c"], "cut_after": 1})
    with pytest.raises(httpx2.ReadError):
        await streamed(client, "cut")
    assert b"message_stop" in await streamed(client, "after")


async def test_a_silent_server_is_a_read_timeout(
    client: anthropic.AsyncAnthropic, model: ModelServer
) -> None:
    model.script({"text": ["a", "b"], "stall_after": 1})
    with pytest.raises(httpx2.ReadTimeout):
        await streamed(client, "stall")


async def test_an_error_status_leaves_the_connection_usable(
    client: anthropic.AsyncAnthropic, model: ModelServer
) -> None:
    model.script({"http_error": {"status": 400, "type": "invalid_request_error", "message": "x"}})
    with pytest.raises(anthropic.BadRequestError):
        await streamed(client, "bad")
    assert b"message_stop" in await streamed(client, "good")
    assert model.requests[0].client_port == model.requests[-1].client_port


async def test_nothing_listening_is_a_connection_error() -> None:
    transport = ModelTransport()
    async with httpx2.AsyncClient(transport=transport) as http:
        with pytest.raises(httpx2.ConnectError):
            await http.get("http://127.0.0.1:9/")


def test_a_proxy_in_the_environment_is_noticed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    assert not proxy_in_environment("https://api.anthropic.com")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert proxy_in_environment("https://api.anthropic.com")


async def test_the_app_keeps_one_connection_for_a_conversation(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as chat:
        for text in ("one", "two", "three"):
            assert streamed_text(await chat.reply_to(text)) == f"Echo: {text}"
    assert len({r.client_port for r in model.requests[-3:]}) == 1
