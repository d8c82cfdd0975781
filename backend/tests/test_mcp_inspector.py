"""The workspace server through a client we did not write: the MCP Inspector's CLI (npm).

Exit codes of Inspector v2: 0 success, 5 the tool reported an error (`isError`).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.mcp_support import (
    BACKEND_DIR,
    PYTHON,
    http_server,
    peer_binary,
    snapshot,
    workspace_env,
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def inspector_command(target: list[str], *options: str) -> list[str]:
    """Inspector flags go after the target; `--` ends the target's own arguments."""
    return [str(peer_binary("mcp-inspector")), "--cli", *target, "--", *options]


def stdio_target(ws: Path, chunk_bytes: int = 4096) -> tuple[list[str], list[str]]:
    """The server command, and `-e` options carrying its settings (the child env is filtered)."""
    env_options = [f"-e{key}={value}" for key, value in workspace_env(ws, chunk_bytes).items()]
    return [PYTHON, "-m", "gatehouse.workspace_server"], env_options


def run_inspector(ws: Path, *options: str, chunk_bytes: int = 4096) -> tuple[int, Any]:
    target, env_options = stdio_target(ws, chunk_bytes)
    command = inspector_command(target, *env_options, *options, "--format", "json")
    done = subprocess.run(command, cwd=BACKEND_DIR, capture_output=True, text=True, timeout=60)
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_inspector_lists_create_file(tmp_path: Path) -> None:
    code, listing = run_inspector(tmp_path / "ws", "--method", "tools/list")
    assert code == 0
    tools = {tool["name"]: tool for tool in listing["result"]["tools"]}
    assert list(tools) == ["create_file", "edit_file", "read_file", "list_files"]
    for name in ("read_file", "list_files"):
        assert tools[name]["annotations"]["readOnlyHint"] is True
    tool = tools["create_file"]
    assert tool["annotations"] == {
        "readOnlyHint": False,
        "destructiveHint": True,
        "idempotentHint": True,
        "openWorldHint": False,
    }
    assert tool["inputSchema"]["required"] == ["path", "content"]


def test_inspector_creates_a_file(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    args = json.dumps({"path": "from/inspector.txt", "content": "olá ✓"})
    code, answer = run_inspector(
        ws,
        "--method",
        "tools/call",
        "--tool-name",
        "create_file",
        "--tool-args-json",
        args,
        chunk_bytes=2,
    )
    assert code == 0
    result = answer["result"]
    assert result["isError"] is False
    assert result["structuredContent"] == {
        "path": "from/inspector.txt",
        "bytes_written": 8,
        "chunks": 4,
        "overwritten": False,
    }
    assert (ws / "from" / "inspector.txt").read_text() == "olá ✓"


def test_inspector_sees_a_refused_path_as_a_tool_error(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    args = json.dumps({"path": "../escape.txt", "content": "x"})
    code, answer = run_inspector(
        ws, "--method", "tools/call", "--tool-name", "create_file", "--tool-args-json", args
    )
    assert code == 5
    result = answer["result"]
    assert result["isError"] is True
    assert "[invalid_path] path contains '..'" in result["content"][0]["text"]
    assert [name for name, kind in snapshot(tmp_path).items() if kind != "dir"] == []


@pytest.mark.anyio
async def test_inspector_lists_tools_over_streamable_http(tmp_path: Path) -> None:
    async with http_server(tmp_path / "ws") as url:
        command = inspector_command([url], "--method", "tools/list", "--format", "json")
        with anyio.fail_after(60):
            done = await anyio.run_process(command, cwd=BACKEND_DIR, check=False)
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)["result"]
    assert [tool["name"] for tool in listing["tools"]] == [
        "create_file",
        "edit_file",
        "read_file",
        "list_files",
    ]


def call_tool(ws: Path, name: str, arguments: dict[str, Any]) -> tuple[int, Any]:
    options = ["--method", "tools/call", "--tool-name", name]
    return run_inspector(ws, *options, "--tool-args-json", json.dumps(arguments))


def test_inspector_edits_reads_and_lists(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "docs").mkdir(parents=True)
    (ws / "docs" / "a.md").write_text("# Título\nolá\n")
    change = {"path": "docs/a.md", "edits": [{"old": "olá", "new": "olá, mundo"}]}
    code, edited = call_tool(ws, "edit_file", change)
    assert code == 0, edited
    assert edited["result"]["structuredContent"]["edits"] == 1
    code, read = call_tool(ws, "read_file", {"path": "docs/a.md"})
    assert code == 0
    assert read["result"]["structuredContent"]["text"] == "# Título\nolá, mundo\n"
    code, listed = call_tool(ws, "list_files", {"pattern": "**/*.md"})
    assert code == 0
    assert listed["result"]["structuredContent"]["files"] == [{"path": "docs/a.md", "bytes": 22}]


def test_inspector_sees_an_edit_that_does_not_match_as_a_tool_error(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.txt").write_text("one one")
    code, answer = call_tool(
        ws, "edit_file", {"path": "a.txt", "edits": [{"old": "one", "new": "1"}]}
    )
    assert code == 5
    assert (
        "[edit_not_unique] edit 1: `old` occurs 2 times" in answer["result"]["content"][0]["text"]
    )
    assert (ws / "a.txt").read_text() == "one one"
