"""MCP tool annotations reach the person: each `tool_request` carries the hints its server
declares; a hostile server's odd values are dropped and cost it none of its tools."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.mcp_hints_server import ANNOTATIONS
from tests.mcp_support import BACKEND_DIR, wait_until
from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, RunningApp, events

pytestmark = pytest.mark.anyio


def hints_ready(app: RunningApp) -> bool:
    return json.loads(app.get("/ready")[1])["mcp_servers"].get("hints") == "ready"


async def test_a_servers_annotations_reach_tool_request_and_odd_ones_are_dropped(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    config = tmp_path / "mcp.json"
    server = {
        "command": sys.executable,
        "args": ["-m", "tests.mcp_hints_server"],
        "cwd": str(BACKEND_DIR),
    }
    config.write_text(json.dumps({"mcpServers": {"hints": server}}))
    app = app_factory(MCP_CONFIG=str(config))
    await wait_until(lambda: hints_ready(app), timeout_s=60)
    uses: list[dict[str, Any]] = [
        {"id": f"toolu_{name}", "name": f"hints__{name}", "input": {}} for name in ANNOTATIONS
    ]
    model.script({"text": ["Using every tool."], "tool_uses": uses})
    async with Chat(app.ws_url()) as chat:
        await chat.say("go")
        asked = await chat.recv_until("tool_request", id=uses[-1]["id"])
        for use in uses:
            await chat.send("tool_approval", {"tool_use_id": use["id"], "approved": False})
        await chat.recv_until("assistant_message_completed")
    # Every tool was offered: no odd annotation took its server's listing down.
    offered = {t["name"] for t in model.requests[0].body["tools"]}
    assert {f"hints__{name}" for name in ANNOTATIONS} <= offered
    hints = {
        frame["data"]["name"]: frame["data"].get("annotations")
        for frame in events(asked, "tool_request")
    }
    assert hints == {
        "hints__wipe": {
            "destructive_hint": True,
            "read_only_hint": False,
            "idempotent_hint": False,
        },
        "hints__lookup": {"read_only_hint": True, "open_world_hint": False},
        "hints__plain": None,
        "hints__strings": None,  # "yes", "no", "maybe" are not booleans
        "hints__nested": None,
        "hints__not_an_object": None,
        "hints__huge": {"destructive_hint": True},  # the title and the rest are not carried
    }


async def test_create_file_declares_honest_annotations(app: RunningApp, model: ModelServer) -> None:
    use = {"id": "toolu_c", "name": "create_file", "input": {"path": "a.txt", "content": "A"}}
    model.script({"text": ["Writing."], "tool_uses": [use]})
    async with Chat(app.ws_url()) as chat:
        await chat.say("write it")
        [request] = events(await chat.recv_until("tool_request"), "tool_request")
        await chat.send("tool_approval", {"tool_use_id": "toolu_c", "approved": False})
        await chat.recv_until("assistant_message_completed")
    # It changes the workspace, may replace a file, writing the same twice changes nothing
    # more, and it reaches nothing beyond the workspace.
    assert request["data"]["annotations"] == {
        "read_only_hint": False,
        "destructive_hint": True,
        "idempotent_hint": True,
        "open_world_hint": False,
    }
