"""Attachments: checked from their bytes, sent to Claude as content blocks, stored, shown in
the history after a reload and a restart, and refused with a clear code when they must be."""

from __future__ import annotations

import base64
import io
import os
import urllib.request
from pathlib import Path
from typing import Any

import anyio
import pytest
from PIL import Image

from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, RunningApp, events

pytestmark = pytest.mark.anyio

# The smallest file that is a PDF to the API's checks and to ours.
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=kind)
    return buffer.getvalue()


def upload(name: str, raw: bytes, media_type: str = "") -> dict[str, str]:
    return {"name": name, "media_type": media_type, "data": base64.b64encode(raw).decode()}


async def _send(chat: Chat, text: str, files: list[dict[str, str]]) -> list[dict[str, Any]]:
    await chat.send("user_message", {"text": text, "attachments": files})
    return await chat.recv_until("assistant_message_completed")


def _error_code(frames: list[dict[str, Any]]) -> str:
    [error] = events(frames, "error")
    return error["data"]["detail"]["code"]


async def test_an_image_and_a_pdf_reach_claude_as_content_blocks_and_survive_a_restart(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'files.db'}"}
    png = image_bytes()
    first = app_factory(**env)
    async with Chat(first.ws_url()) as chat:
        # The browser's guess is wrong (a PNG called a JPEG): the bytes decide.
        frames = await _send(
            chat, "What is this?", [upload("red.png", png, "image/jpeg"), upload("a.pdf", PDF)]
        )
        session_id = chat.session_id
    assert events(frames, "assistant_message_completed")[0]["data"]["reason"] == "ok"
    [request] = model.requests
    image, document, text = request.body["messages"][0]["content"]
    assert image["source"] == {
        "type": "base64",
        "media_type": "image/png",
        "data": base64.b64encode(png).decode(),
    }
    assert document["type"] == "document"
    assert document["source"]["media_type"] == "application/pdf"
    assert text["text"] == "What is this?"
    first.stop()

    again = app_factory(**env)
    async with Chat(again.ws_url(session_id=session_id)) as chat:
        history = await chat.recv_until("history")
    person = history[-1]["data"]["messages"][0]
    names = [(a["name"], a["media_type"], a["bytes"]) for a in person["attachments"]]
    assert names == [("red.png", "image/png", len(png)), ("a.pdf", "application/pdf", len(PDF))]
    status, headers, body = _fetch(again, person["attachments"][0]["url"])
    assert (status, headers["content-type"], body) == (200, "image/png", png)
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ([upload("photo.png", b"MZ\x90\x00 not an image at all", "image/png")], "attachment_type"),
        ([upload("half.png", image_bytes()[:20], "image/png")], "attachment_type"),
        ([upload("tall.png", image_bytes(size=(1, 8001)))], "attachment_too_large"),
        ([upload(f"{n}.gif", image_bytes("GIF")) for n in range(6)], "too_many_attachments"),
    ],
    ids=["disguised-by-extension", "truncated", "over-8000-pixels", "too-many"],
)
async def test_attachments_the_api_would_refuse_never_reach_it(
    app: RunningApp, model: ModelServer, files: list[dict[str, str]], code: str
) -> None:
    async with Chat(app.ws_url()) as chat:
        frames = await _send(chat, "look", files)
    assert _error_code(frames) == code
    assert events(frames, "assistant_message_completed")[0]["data"]["reason"] == "error"
    assert model.requests == []


async def test_an_image_over_five_megabytes_is_refused(app: RunningApp, model: ModelServer) -> None:
    noise = Image.frombytes("RGB", (1400, 1400), os.urandom(1400 * 1400 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    assert len(base64.b64encode(buffer.getvalue())) > 5 * 1024 * 1024
    async with Chat(app.ws_url()) as chat:
        frames = await _send(chat, "big", [upload("noise.png", buffer.getvalue())])
    assert _error_code(frames) == "attachment_too_large"
    assert model.requests == []


async def test_a_conversation_cannot_hold_more_attachments_than_one_request_carries(
    app_factory: AppFactory, model: ModelServer
) -> None:
    png = image_bytes()
    budget = len(base64.b64encode(png)) * 3 // 2  # room for one, not two
    app = app_factory(MAX_CONVERSATION_ATTACHMENTS_BYTES=str(budget))
    async with Chat(app.ws_url()) as chat:
        ok = await _send(chat, "one", [upload("1.png", png)])
        refused = await _send(chat, "two", [upload("2.png", png)])
    assert events(ok, "error") == []
    assert _error_code(refused) == "attachments_too_large"
    assert len(model.requests) == 1


async def test_only_a_message_with_attachments_may_pass_the_frame_limit(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(MAX_FRAME_BYTES="2048", MAX_MESSAGE_CHARS="100000")
    big = PDF + b"%" + b"x" * 4096 + b"\n"
    async with Chat(app.ws_url()) as chat:
        frames = await _send(chat, "a long pdf", [upload("long.pdf", big)])
        assert events(frames, "error") == []
        await chat.send("user_message", {"text": "y" * 4096})
        assert chat.ws is not None
        with anyio.fail_after(15):
            await chat.ws.wait_closed()
        assert chat.ws.close_code == 1009
    assert len(model.requests) == 1


def _fetch(app: RunningApp, path: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(app.base_url + path, timeout=5) as response:
        headers = {k.lower(): v for k, v in response.headers.items()}
        return response.status, headers, response.read()
