"""The approval gate end to end: Claude asks, the person decides, the file is written or not."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mcp_support import wait_until
from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, Frame, RunningApp, ended, events, streamed_text

pytestmark = pytest.mark.anyio

CONTENT = "".join(f"line {n}: olá, façade, 日本語 ✓\n" for n in range(400))  # ~14 KB, multibyte


def create_file(tool_id: str, path: str, content: str = CONTENT) -> dict[str, Any]:
    return {"id": tool_id, "name": "create_file", "input": {"path": path, "content": content}}


def tool_results(model: ModelServer) -> list[dict[str, Any]]:
    """The tool_result blocks of the last request Claude received."""
    last_user = model.requests[-1].body["messages"][-1]
    assert last_user["role"] == "user"
    return [b for b in last_user["content"] if b["type"] == "tool_result"]


def result_text(result: dict[str, Any]) -> str:
    return "".join(block["text"] for block in result["content"])


async def ask_for(chat: Chat, model: ModelServer, *uses: dict[str, Any]) -> list[Frame]:
    model.script({"text": ["Let me write that."], "tool_uses": list(uses)})
    await chat.say("please write")
    return await chat.recv_until("tool_request", id=uses[-1]["id"])


async def test_approved_call_streams_chunks_and_writes_the_file(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as chat:
        asked = await ask_for(chat, model, create_file("toolu_ok", "notes/hello.txt"))
        request = events(asked, "tool_request")[0]["data"]
        await chat.send("tool_approval", {"tool_use_id": "toolu_ok", "approved": True})
        frames = await chat.recv_until("assistant_message_completed")
    assert request["name"] == "create_file"
    assert request["server"] == "workspace"
    assert request["input"] == {"path": "notes/hello.txt", "content": CONTENT}
    size = len(CONTENT.encode())
    diff = request["preview"].pop("diff")  # a new file: every line added
    assert (diff["added"], diff["removed"], diff["hunks"][0]["lines"][0]) == (
        400,
        0,
        "+line 0: olá, façade, 日本語 ✓",
    )
    assert request["preview"] == {
        "path": "notes/hello.txt",
        "bytes": size,
        "overwrite": False,
        "valid_path": True,
    }
    chunks = events(frames, "tool_chunk")
    assert len(chunks) >= size // 4096
    assert {c["data"]["tool_use_id"] for c in chunks} == {"toolu_ok"}
    assert "".join(c["data"]["chunk"] for c in chunks) == CONTENT
    statuses = [f["data"] for f in events(frames, "status_update")]
    assert statuses[0] == {"tool_running": True, "file_path": "notes/hello.txt"}
    assert {"tool_running": False} in statuses
    last_chunk = max(i for i, f in enumerate(frames) if f["event"] == "tool_chunk")
    assert frames[last_chunk + 1]["data"] == {"tool_running": False}
    assert (app.workspace / "notes" / "hello.txt").read_text() == CONTENT
    assert streamed_text(frames).startswith("Tool finished:")
    assert ended(frames[-1]) == {"reason": "ok"}
    [result] = tool_results(model)
    assert result["tool_use_id"] == "toolu_ok"
    assert "is_error" not in result
    # Claude gets its own turn back exactly: the text, and the input rebuilt from its pieces.
    assert model.requests[-1].body["messages"][-2] == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Let me write that."},
            create_file("toolu_ok", "notes/hello.txt") | {"type": "tool_use"},
        ],
    }


async def test_denied_call_never_touches_the_disk(app: RunningApp, model: ModelServer) -> None:
    async with Chat(app.ws_url()) as chat:
        await ask_for(chat, model, create_file("toolu_no", "denied.txt"))
        await chat.send("tool_approval", {"tool_use_id": "toolu_no", "approved": False})
        frames = await chat.recv_until("assistant_message_completed")
    assert events(frames, "tool_chunk") == []
    assert {"tool_running": True} not in [f["data"] for f in frames]
    assert list(app.workspace.iterdir()) == []
    [result] = tool_results(model)
    assert result["is_error"] is True
    assert "denied by the user" in result_text(result)
    assert streamed_text(frames).startswith("Tool failed:")
    assert ended(frames[-1]) == {"reason": "ok"}


async def test_parallel_calls_are_asked_together_and_answered_in_one_turn(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as chat:
        asked = await ask_for(
            chat,
            model,
            create_file("toolu_a", "a.txt", "AAA"),
            create_file("toolu_b", "b.txt", "BBB"),
        )
        await chat.send("tool_approval", {"tool_use_id": "toolu_b", "approved": False})
        await chat.send("tool_approval", {"tool_use_id": "toolu_a", "approved": True})
        frames = await chat.recv_until("assistant_message_completed")
    assert [f["data"]["id"] for f in events(asked, "tool_request")] == ["toolu_a", "toolu_b"]
    assert (app.workspace / "a.txt").read_text() == "AAA"
    assert not (app.workspace / "b.txt").exists()
    results = tool_results(model)
    assert [r["tool_use_id"] for r in results] == ["toolu_a", "toolu_b"]
    assert "is_error" not in results[0]
    assert results[1]["is_error"] is True
    assert ended(frames[-1]) == {"reason": "ok"}


async def test_invalid_input_goes_back_to_claude_without_asking(
    app: RunningApp, model: ModelServer
) -> None:
    bad = {"id": "toolu_bad", "name": "create_file", "input": {"path": "x.txt"}}
    model.script({"text": ["Writing."], "tool_uses": [bad]})
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to("write with a bug")
    assert events(frames, "tool_request") == []
    assert events(frames, "error") == []
    [result] = tool_results(model)
    assert result["is_error"] is True
    assert "content" in result_text(result)
    assert streamed_text(frames) == "Writing." + "Tool failed: " + result_text(result)
    assert ended(frames[-1]) == {"reason": "ok"}


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    target = tmp_path / "outside"
    target.mkdir()
    return target


@pytest.mark.parametrize(
    "path",
    [
        "../escape.txt",
        "notes/../../escape.txt",
        "/etc/gatehouse-escape.txt",
        "~/escape.txt",
        "nul\x00byte.txt",
        "back\\slash.txt",
        "C:/escape.txt",
        "%2e%2e%2fescape.txt",
        "a" * 300 + ".txt",
        "link_out/escape.txt",
        "file_link",
        "a_directory",
    ],
)
async def test_paths_that_leave_the_workspace_are_refused_before_asking(
    app: RunningApp, model: ModelServer, outside: Path, path: str
) -> None:
    (app.workspace / "link_out").symlink_to(outside, target_is_directory=True)
    (outside / "victim.txt").write_text("untouched")
    (app.workspace / "file_link").symlink_to(outside / "victim.txt")
    (app.workspace / "a_directory").mkdir()
    model.script({"text": ["Sure."], "tool_uses": [create_file("toolu_evil", path, "pwned")]})
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to("attack")
    assert events(frames, "tool_request") == []
    [error] = events(frames, "error")
    assert error["data"]["detail"] == {"code": "invalid_path", "tool_use_id": "toolu_evil"}
    assert error["data"]["message"].startswith("Caminho inválido")
    assert [p.name for p in outside.iterdir()] == ["victim.txt"]
    assert (outside / "victim.txt").read_text() == "untouched"
    assert not (app.workspace.parent / "escape.txt").exists()
    [result] = tool_results(model)
    assert result["is_error"] is True
    assert ended(frames[-1]) == {"reason": "ok"}


@pytest.fixture
def frozen_folder(app: RunningApp) -> Iterator[Path]:
    """A folder nobody can write into, root included (the immutable attribute)."""
    folder = app.workspace / "frozen"
    folder.mkdir()
    subprocess.run(["chattr", "+i", str(folder)], check=True)
    yield folder
    subprocess.run(["chattr", "-i", str(folder)], check=True)


async def test_a_write_failure_is_reported_and_the_reply_goes_on(
    app: RunningApp, model: ModelServer, frozen_folder: Path
) -> None:
    async with Chat(app.ws_url()) as chat:
        await ask_for(chat, model, create_file("toolu_ro", "frozen/a.txt"))
        await chat.send("tool_approval", {"tool_use_id": "toolu_ro", "approved": True})
        frames = await chat.recv_until("assistant_message_completed")
    [error] = events(frames, "error")
    assert error["data"]["detail"] == {"code": "write_failed", "tool_use_id": "toolu_ro"}
    assert list(frozen_folder.iterdir()) == []
    [result] = tool_results(model)
    assert result["is_error"] is True
    assert streamed_text(frames).startswith("Tool failed:")
    assert ended(frames[-1]) == {"reason": "ok"}


async def test_an_unanswered_approval_times_out_as_a_denial(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(TOOL_APPROVAL_TIMEOUT_S="0.5")
    async with Chat(app.ws_url(locale="en")) as chat:
        await ask_for(chat, model, create_file("toolu_late", "late.txt"))
        frames = await chat.recv_until("assistant_message_completed")
        late = await chat.send("tool_approval", {"tool_use_id": "toolu_late", "approved": True})
        refused = await chat.recv()
    assert late is None
    [error] = events(frames, "error")
    assert error["data"]["detail"] == {"code": "approval_timeout", "tool_use_id": "toolu_late"}
    assert error["data"]["message"] == "The tool approval timed out; the call was denied."
    assert refused["data"]["detail"]["code"] == "unknown_tool_call"
    assert list(app.workspace.iterdir()) == []
    [result] = tool_results(model)
    assert result["is_error"] is True
    assert 'gatehouse_tool_approvals_total{decision="timeout"} 1.0' in app.get("/metrics")[1]


async def test_one_session_cannot_approve_another_sessions_call(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as owner, Chat(app.ws_url()) as intruder:
        await ask_for(owner, model, create_file("toolu_owned", "owned.txt", "mine"))
        await intruder.send("tool_approval", {"tool_use_id": "toolu_owned", "approved": True})
        refused = await intruder.recv()
        assert list(app.workspace.iterdir()) == []
        await owner.send("tool_approval", {"tool_use_id": "toolu_owned", "approved": True})
        frames = await owner.recv_until("assistant_message_completed")
        await owner.send("tool_approval", {"tool_use_id": "toolu_owned", "approved": True})
        repeated = await owner.recv()
    assert refused["data"]["detail"] == {"code": "unknown_tool_call", "tool_use_id": "toolu_owned"}
    assert repeated["data"]["detail"]["code"] == "unknown_tool_call"
    assert (app.workspace / "owned.txt").read_text() == "mine"
    assert ended(frames[-1]) == {"reason": "ok"}


async def test_leaving_while_an_approval_is_pending_runs_nothing(
    app: RunningApp, model: ModelServer
) -> None:
    async with Chat(app.ws_url()) as leaver:
        await ask_for(leaver, model, create_file("toolu_gone", "gone.txt"))
    async with Chat(app.ws_url()) as other:
        frames = await other.reply_to("anyone?")
    assert streamed_text(frames) == "Echo: anyone?"
    assert list(app.workspace.iterdir()) == []
    assert len(model.requests) == 2  # the leaver's turn never went back to Claude


async def test_a_third_party_server_from_mcp_config_sits_behind_the_same_gate(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    config = tmp_path / "mcp.json"
    server = {"command": sys.executable, "args": ["-m", "mcp_server_time", "--local-timezone=UTC"]}
    config.write_text(json.dumps({"mcpServers": {"time": server}}))
    app = app_factory(MCP_CONFIG=str(config))
    use = {"id": "toolu_time", "name": "time__get_current_time", "input": {"timezone": "UTC"}}
    model.script({"text": ["Checking the clock."], "tool_uses": [use]})
    async with Chat(app.ws_url()) as chat:
        await chat.say("what time is it?")
        asked = await chat.recv_until("tool_request")
        await chat.send("tool_approval", {"tool_use_id": "toolu_time", "approved": True})
        frames = await chat.recv_until("assistant_message_completed")
    request = events(asked, "tool_request")[0]["data"]
    assert request["server"] == "time"
    assert "preview" not in request
    assert "time__get_current_time" in [t["name"] for t in model.requests[0].body["tools"]]
    [result] = tool_results(model)
    assert "is_error" not in result
    assert json.loads(result_text(result))["timezone"] == "UTC"
    assert ended(frames[-1]) == {"reason": "ok"}
    ready = json.loads(app.get("/ready")[1])
    assert ready["mcp_servers"] == {"workspace": "ready", "time": "ready"}


async def test_a_call_to_a_server_that_went_down_says_so_to_both(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    pid_file, stop = tmp_path / "time.pid", tmp_path / "stay-down"
    # Starts mcp-server-time, or refuses to once `stop` exists (so it stays down when killed).
    script = 'test -e "$1" && exit 1; echo $$ > "$2"; exec "$3" -m mcp_server_time'
    args = ["-c", script, "sh", str(stop), str(pid_file), sys.executable]
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"time": {"command": "/bin/sh", "args": args}}}))
    app = app_factory(MCP_CONFIG=str(config))

    def time_server() -> str:
        return json.loads(app.get("/ready")[1])["mcp_servers"]["time"]

    await wait_until(lambda: time_server() == "ready")
    stop.touch()
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    await wait_until(lambda: time_server() != "ready")

    use = {"id": "toolu_late", "name": "time__get_current_time", "input": {"timezone": "UTC"}}
    model.script({"text": ["Checking the clock."], "tool_uses": [use]})
    async with Chat(app.ws_url(locale="en")) as chat:
        await chat.say("what time is it?")
        frames = await chat.recv_until("assistant_message_completed")
    assert events(frames, "tool_request") == []
    [error] = events(frames, "error")
    assert error["data"]["detail"] == {"code": "server_unavailable", "tool_use_id": "toolu_late"}
    assert error["data"]["message"] == "The tool's server is unavailable right now."
    [result] = tool_results(model)
    assert result["is_error"] is True
    assert "[server_unavailable]" in result_text(result) and "'time'" in result_text(result)


async def test_an_approved_call_whose_server_went_down_is_unavailable_not_denied(
    app_factory: AppFactory, model: ModelServer, tmp_path: Path
) -> None:
    pid_file, stop = tmp_path / "time.pid", tmp_path / "stay-down"
    script = 'test -e "$1" && exit 1; echo $$ > "$2"; exec "$3" -m mcp_server_time'
    args = ["-c", script, "sh", str(stop), str(pid_file), sys.executable]
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"time": {"command": "/bin/sh", "args": args}}}))
    app = app_factory(MCP_CONFIG=str(config))

    def time_server() -> str:
        return json.loads(app.get("/ready")[1])["mcp_servers"]["time"]

    await wait_until(lambda: time_server() == "ready")
    use = {"id": "toolu_gone", "name": "time__get_current_time", "input": {"timezone": "UTC"}}
    model.script({"text": ["Checking the clock."], "tool_uses": [use]})
    async with Chat(app.ws_url(locale="en")) as chat:
        await chat.say("what time is it?")
        await chat.recv_until("tool_request")
        stop.touch()
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
        await wait_until(lambda: time_server() != "ready")
        await chat.send("tool_approval", {"tool_use_id": "toolu_gone", "approved": True})
        frames = await chat.recv_until("assistant_message_completed")
    [error] = events(frames, "error")
    assert error["data"]["detail"] == {"code": "server_unavailable", "tool_use_id": "toolu_gone"}
    [result] = tool_results(model)
    assert result["is_error"] is True
    assert "[server_unavailable]" in result_text(result) and "'time'" in result_text(result)
    assert "denied" not in result_text(result)
    assert ended(frames[-1]) == {"reason": "ok"}
