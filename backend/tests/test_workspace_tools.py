"""`edit_file`, `read_file` and `list_files` of the built-in server, through the official `mcp`
client: in memory for the cases, over stdio once (as `gatehouse mcp-workspace` runs it)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, TextContent

from gatehouse.workspace_server import (
    build_workspace_server,
    parse_tool_error,
    remove_stale_partials,
)
from tests.mcp_support import BACKEND_DIR, PYTHON, snapshot, workspace_env

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    return folder


def error_of(result: CallToolResult) -> tuple[str, str]:
    assert result.is_error
    [block] = result.content
    assert isinstance(block, TextContent)
    return parse_tool_error(block.text)


def edit(old: str, new: str) -> dict[str, str]:
    return {"old": old, "new": new}


async def call(ws: Path, tool: str, arguments: dict[str, Any], max_bytes: int = 10_000) -> Any:
    async with Client(build_workspace_server(ws, 4, max_bytes)) as client:
        return await client.call_tool(tool, arguments)


async def test_read_and_list_are_marked_read_only_and_writes_are_not(ws: Path) -> None:
    async with Client(build_workspace_server(ws, 4096, 1000)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {"create_file", "edit_file", "read_file", "list_files"}
    hints = {
        name: tool.annotations and tool.annotations.read_only_hint for name, tool in tools.items()
    }
    assert hints == {
        "create_file": False,
        "edit_file": False,
        "read_file": True,
        "list_files": True,
    }
    assert tools["edit_file"].input_schema["required"] == ["path", "edits"]


async def test_edit_file_replaces_each_old_text_once_in_order(ws: Path) -> None:
    (ws / "app.py").write_text("a = 1\nb = 2\nc = 3\n")
    os.chmod(ws / "app.py", 0o640)
    edits = [edit("b = 2", "b = 20"), edit("b = 20\nc", "b = 20\n# c\nc")]
    result = await call(ws, "edit_file", {"path": "app.py", "edits": edits})
    assert not result.is_error
    assert (ws / "app.py").read_text() == "a = 1\nb = 20\n# c\nc = 3\n"
    assert result.structured_content == {"path": "app.py", "bytes_written": 23, "edits": 2}
    assert oct((ws / "app.py").stat().st_mode & 0o777) == oct(0o640)  # the file's own mode


@pytest.mark.parametrize(
    ("edits", "code", "words"),
    [
        ([edit("zzz", "y")], "edit_not_found", "edit 1: `old` does not occur"),
        ([edit("b = 2", "b = 3"), edit("b = 2", "x")], "edit_not_found", "edit 2"),
        ([edit("= ", "=")], "edit_not_unique", "occurs 3 times"),
        ([edit("", "x")], "invalid_arguments", "`old` is empty"),
        ([], "invalid_arguments", "edits"),
    ],
)
async def test_an_edit_that_cannot_apply_writes_nothing(
    ws: Path, edits: list[dict[str, str]], code: str, words: str
) -> None:
    (ws / "app.py").write_text("a = 1\nb = 2\nc = 3\n")
    before = snapshot(ws)
    result = await call(ws, "edit_file", {"path": "app.py", "edits": edits})
    found_code, message = error_of(result)
    assert (found_code, words in message) == (code, True), message
    assert snapshot(ws) == before


async def test_edit_file_refuses_a_missing_file_a_binary_one_and_a_path_outside(
    ws: Path, tmp_path: Path
) -> None:
    (ws / "image.bin").write_bytes(b"\xff\xfe\x00old")
    (tmp_path / "secret.txt").write_text("old")
    os.symlink(tmp_path / "secret.txt", ws / "link.txt")
    change = [edit("old", "new")]
    cases = {"nope.txt": "file_not_found", "image.bin": "not_text", "../secret.txt": "invalid_path"}
    for path, code in {**cases, "link.txt": "invalid_path"}.items():
        assert error_of(await call(ws, "edit_file", {"path": path, "edits": change}))[0] == code
    assert (tmp_path / "secret.txt").read_text() == "old"
    assert (ws / "image.bin").read_bytes() == b"\xff\xfe\x00old"


async def test_an_edit_that_makes_the_file_too_large_is_refused(ws: Path) -> None:
    (ws / "a.txt").write_text("x")
    result = await call(ws, "edit_file", {"path": "a.txt", "edits": [edit("x", "y" * 11)]}, 10)
    assert error_of(result)[0] == "file_too_large"
    assert (ws / "a.txt").read_text() == "x"


async def test_read_file_returns_a_bounded_window_and_says_where_to_go_on(ws: Path) -> None:
    (ws / "notes").mkdir()
    (ws / "notes" / "long.md").write_text("".join(f"line {n}\n" for n in range(1, 11)))
    result = await call(ws, "read_file", {"path": "notes/long.md", "start_line": 3, "max_lines": 4})
    assert result.structured_content == {
        "path": "notes/long.md",
        "text": "line 3\nline 4\nline 5\nline 6\n",
        "start_line": 3,
        "end_line": 6,
        "total_lines": 10,
        "truncated": True,
        "next_line": 7,
    }
    too_many = await call(ws, "read_file", {"path": "notes/long.md", "max_lines": 5000})
    assert error_of(too_many)[0] == "invalid_arguments"


async def test_read_file_refuses_what_it_must_not_read(ws: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("top secret")
    os.symlink(tmp_path / "secret.txt", ws / "link.txt")
    os.symlink(tmp_path, ws / "out")
    (ws / "big.txt").write_text("x" * 101)
    cases = {
        "link.txt": "invalid_path",
        "out/secret.txt": "invalid_path",
        "../secret.txt": "invalid_path",
        "missing.txt": "file_not_found",
        "big.txt": "file_too_large",
    }
    for path, code in cases.items():
        result = await call(ws, "read_file", {"path": path}, max_bytes=100)
        found, message = error_of(result)
        assert found == code, (path, message)
        assert "top secret" not in message


async def test_list_files_matches_globs_and_stays_inside(ws: Path, tmp_path: Path) -> None:
    for name in ("src/app.py", "src/lib/util.py", "src/lib/util.ts", "README.md", ".env"):
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_text(name)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.py").write_text("x")
    os.symlink(tmp_path / "outside", ws / "src" / "linked")
    (ws / ".0123456789abcdef.gatehouse-partial").write_text("half")

    async def listed(**arguments: Any) -> Any:
        return (await call(ws, "list_files", arguments)).structured_content

    python = await listed(pattern="src/**/*.py")
    assert python == {
        "files": [{"path": "src/app.py", "bytes": 10}, {"path": "src/lib/util.py", "bytes": 15}],
        "truncated": False,
    }
    everything = await listed()
    assert [f["path"] for f in everything["files"]] == [
        ".env",
        "README.md",
        "src/app.py",
        "src/lib/util.py",
        "src/lib/util.ts",
    ]
    assert (await listed(pattern="**/*.{ts,md}"))["files"][0]["path"] == "README.md"
    assert await listed(max_results=2) == {"files": everything["files"][:2], "truncated": True}
    assert (await listed(pattern="../**"))["files"] == []


async def test_edit_read_and_list_over_stdio(ws: Path) -> None:
    (ws / "a.txt").write_text("hello world\n")
    params = StdioServerParameters(
        command=PYTHON,
        args=["-m", "gatehouse.workspace_server"],
        env={**os.environ, **workspace_env(ws, 4)},
        cwd=str(BACKEND_DIR),
    )
    async with Client(params) as client:
        edited = await client.call_tool(
            "edit_file", {"path": "a.txt", "edits": [edit("world", "mundo")]}
        )
        read = await client.call_tool("read_file", {"path": "a.txt"})
        listing = await client.call_tool("list_files", {"pattern": "*.txt"})
    assert not edited.is_error
    assert read.structured_content is not None
    assert read.structured_content["text"] == "hello mundo\n"
    assert listing.structured_content == {
        "files": [{"path": "a.txt", "bytes": 12}],
        "truncated": False,
    }


def test_with_several_workers_only_idle_temporary_files_are_removed_at_start_up(ws: Path) -> None:
    """Another worker may be writing: with `idle_s` a temporary file touched since is kept."""
    old = ws / ".00000000000000aa.gatehouse-partial"
    fresh = ws / "sub" / ".00000000000000bb.gatehouse-partial"
    fresh.parent.mkdir()
    for path in (old, fresh):
        path.write_text("half")
    os.utime(old, (1_000_000_000, 1_000_000_000))  # untouched for years
    (ws / "kept.txt").write_text("a file of the person's")
    assert remove_stale_partials(ws, idle_s=300) == 1
    assert not old.exists() and fresh.exists()
    assert remove_stale_partials(ws) == 1  # one process: every one is a killed write's
    assert [p.name for p in ws.rglob("*") if p.is_file()] == ["kept.txt"]
