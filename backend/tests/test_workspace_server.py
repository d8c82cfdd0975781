"""The built-in workspace MCP server, driven by the SDK's own client.

In memory (`Client(server)`) for most cases; over stdio (`python -m gatehouse.workspace_server`)
for a write that hits a real file-size limit; over streamable HTTP once.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mcp import Client, MCPError, StdioServerParameters
from mcp.types import REQUEST_TIMEOUT, CallToolResult, TextContent

from gatehouse.workspace_server import (
    CreateFileResult,
    build_workspace_server,
    parse_tool_error,
    utf8_chunks,
)
from tests.mcp_support import BACKEND_DIR, PYTHON, http_server, snapshot, workspace_env

pytestmark = pytest.mark.anyio

Progress = tuple[float, float | None, str | None]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("do not touch")
    return folder


class ProgressLog:
    def __init__(self) -> None:
        self.events: list[Progress] = []
        self.arrived = anyio.Event()

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.events.append((progress, total, message))
        self.arrived.set()

    @property
    def offsets(self) -> list[int]:
        return [int(progress) for progress, _, _ in self.events]


async def create_file(
    client: Client, path: str, content: str, progress: ProgressLog | None = None
) -> CallToolResult:
    return await client.call_tool(
        "create_file", {"path": path, "content": content}, progress_callback=progress
    )


def error_of(result: CallToolResult) -> tuple[str, str]:
    assert result.is_error
    [block] = result.content
    assert isinstance(block, TextContent)
    return parse_tool_error(block.text)


def leftovers(folder: Path) -> list[str]:
    """Temporary files left behind anywhere below `folder`."""
    return [name for name in snapshot(folder) if name.endswith(".gatehouse-partial")]


async def test_lists_create_file_with_its_annotations(ws: Path) -> None:
    async with Client(build_workspace_server(ws, 4096, 1000)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    tool = tools["create_file"]
    assert tool.annotations is not None
    assert tool.annotations.read_only_hint is False
    assert tool.annotations.destructive_hint is True
    assert tool.annotations.idempotent_hint is True
    assert tool.annotations.open_world_hint is False
    assert tool.description and "relative to the workspace" in tool.description
    assert tool.input_schema["required"] == ["path", "content"]
    assert tool.output_schema is not None
    assert set(tool.output_schema["properties"]) == {
        "path",
        "bytes_written",
        "chunks",
        "overwritten",
    }


async def test_writes_in_chunks_with_rising_progress(ws: Path) -> None:
    content = "".join(f"line {n}\n" for n in range(40))
    size = len(content.encode())
    progress = ProgressLog()
    async with Client(build_workspace_server(ws, 7, 10_000)) as client:
        result = await create_file(client, "notes/log.txt", content, progress)
    assert not result.is_error
    assert (ws / "notes" / "log.txt").read_text() == content
    assert (
        result.structured_content
        == CreateFileResult(
            path="notes/log.txt", bytes_written=size, chunks=-(-size // 7), overwritten=False
        ).model_dump()
    )
    offsets = progress.offsets
    assert offsets == sorted(set(offsets)) and offsets[-1] == size
    assert all(b - a <= 7 for a, b in zip([0, *offsets], offsets, strict=False))
    assert {total for _, total, _ in progress.events} == {size}
    assert [message for _, _, message in progress.events][:2] == ["chunk 1", "chunk 2"]
    assert leftovers(ws) == []


async def test_multibyte_characters_are_never_split(ws: Path) -> None:
    content = "aé€😀" * 10 + "😀b"  # 1, 2, 3 and 4-byte characters
    data = content.encode()
    progress = ProgressLog()
    async with Client(build_workspace_server(ws, 3, 10_000)) as client:
        result = await create_file(client, "u.txt", content, progress)
    assert not result.is_error
    offsets = [0, *progress.offsets]
    pieces = [data[a:b].decode("utf-8") for a, b in zip(offsets, offsets[1:], strict=False)]
    assert "".join(pieces) == content
    assert "😀" in pieces  # a 4-byte character larger than the 3-byte chunk is a chunk alone
    assert (ws / "u.txt").read_bytes() == data


@given(text=st.text(), chunk_bytes=st.integers(min_value=1, max_value=9))
def test_utf8_chunks_join_back_and_end_on_character_boundaries(text: str, chunk_bytes: int) -> None:
    data = text.encode("utf-8", "surrogatepass")
    chunks = list(utf8_chunks(data, chunk_bytes))
    assert b"".join(chunks) == data
    for chunk in chunks:
        assert len(chunk) <= chunk_bytes or len(chunk.decode("utf-8", "surrogatepass")) == 1
        chunk.decode("utf-8", "surrogatepass")  # a split character would not decode


async def test_empty_content_writes_an_empty_file_without_progress(ws: Path) -> None:
    progress = ProgressLog()
    async with Client(build_workspace_server(ws, 4, 100)) as client:
        result = await create_file(client, "empty.txt", "", progress)
    assert result.structured_content == {
        "path": "empty.txt",
        "bytes_written": 0,
        "chunks": 0,
        "overwritten": False,
    }
    assert (ws / "empty.txt").read_bytes() == b""
    assert progress.events == []


async def test_new_files_get_the_umask_mode_and_overwrites_keep_theirs(ws: Path) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    ws.mkdir()
    (ws / "private.txt").write_text("old")
    (ws / "private.txt").chmod(0o600)
    async with Client(build_workspace_server(ws, 4096, 100)) as client:
        fresh = await create_file(client, "fresh.txt", "new")
        replaced = await create_file(client, "private.txt", "replaced")
    assert stat.S_IMODE((ws / "fresh.txt").stat().st_mode) == 0o644 & ~umask
    assert stat.S_IMODE((ws / "private.txt").stat().st_mode) == 0o600
    assert (ws / "private.txt").read_text() == "replaced"
    assert fresh.structured_content and fresh.structured_content["overwritten"] is False
    assert replaced.structured_content and replaced.structured_content["overwritten"] is True


async def test_path_attacks_are_refused_and_nothing_is_written(ws: Path, outside: Path) -> None:
    ws.mkdir()
    (ws / "escape").symlink_to(outside)
    (ws / "planted.txt").symlink_to(outside / "secret.txt")
    before = snapshot(outside)
    attacks = ["../outside/secret.txt", "/etc/x", "escape/x.txt", "planted.txt", "a%2f..%2fx"]
    async with Client(build_workspace_server(ws, 4096, 100)) as client:
        for path in attacks:
            code, message = error_of(await create_file(client, path, "pwned"))
            assert code == "invalid_path", (path, message)
    assert snapshot(outside) == before
    assert set(snapshot(ws)) == {"escape", "planted.txt"}


async def test_a_symlink_planted_during_the_write_is_replaced_not_followed(
    ws: Path, outside: Path
) -> None:
    before = snapshot(outside)
    progress = ProgressLog()
    server = build_workspace_server(ws, 1, 100, chunk_delay_s=0.01)
    async with Client(server) as client, anyio.create_task_group() as tasks:

        async def write() -> None:
            result = await create_file(client, "target.txt", "0123456789", progress)
            assert not result.is_error

        tasks.start_soon(write)
        with anyio.fail_after(5):
            await progress.arrived.wait()
        (ws / "target.txt").symlink_to(outside / "secret.txt")
    assert not (ws / "target.txt").is_symlink()
    assert (ws / "target.txt").read_text() == "0123456789"
    assert snapshot(outside) == before


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"path": "a.txt"}, "content: Field required"),
        ({}, "path: Field required; content: Field required"),
        ({"path": 7, "content": "x"}, "path: Input should be a valid string"),
        ({"path": "a.txt", "content": ["x"]}, "content: Input should be a valid string"),
    ],
)
async def test_missing_or_mistyped_arguments_carry_the_invalid_arguments_code(
    ws: Path, arguments: dict[str, Any], problem: str
) -> None:
    async with Client(build_workspace_server(ws, 4096, 1000)) as client:
        result = await client.call_tool("create_file", arguments)
    assert error_of(result) == ("invalid_arguments", problem)
    assert [name for name, kind in snapshot(ws).items() if kind != "dir"] == []


async def test_too_large_content_is_refused_by_byte_size(ws: Path) -> None:
    async with Client(build_workspace_server(ws, 4096, 8)) as client:
        exact = await create_file(client, "exact.txt", "é" * 4)  # 8 bytes
        code, message = error_of(await create_file(client, "big.txt", "é" * 5))  # 10 bytes
    assert not exact.is_error
    assert code == "file_too_large" and "10 bytes" in message
    assert not (ws / "big.txt").exists()


async def test_cancelling_mid_write_leaves_no_file(ws: Path) -> None:
    progress = ProgressLog()
    server = build_workspace_server(ws, 1, 1000, chunk_delay_s=0.02)
    async with Client(server) as client:
        with anyio.CancelScope() as scope:

            async def cancel_after_first_chunks() -> None:
                with anyio.fail_after(5):
                    while len(progress.events) < 3:
                        await progress.arrived.wait()
                        progress.arrived = anyio.Event()
                scope.cancel()

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(cancel_after_first_chunks)
                await create_file(client, "deep/folder/half.txt", "x" * 500, progress)
        assert scope.cancelled_caught
    assert not (ws / "deep" / "folder" / "half.txt").exists()
    assert leftovers(ws) == []


async def test_a_timed_out_call_is_stopped_and_cleaned_up(ws: Path) -> None:
    server = build_workspace_server(ws, 1, 1000, chunk_delay_s=0.02)
    async with Client(server) as client:
        with pytest.raises(MCPError) as caught:
            await client.call_tool(
                "create_file", {"path": "slow.txt", "content": "x" * 500}, read_timeout_seconds=0.2
            )
    assert caught.value.code == REQUEST_TIMEOUT
    assert not (ws / "slow.txt").exists()
    assert leftovers(ws) == []


@pytest.fixture
def immutable_folder(ws: Path) -> Any:
    """A folder even root cannot create files in (`chattr +i`, where the filesystem has it)."""
    folder = ws / "frozen"
    folder.mkdir(parents=True)
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("chattr is not installed")
    if subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("this filesystem does not support the immutable attribute")
    try:
        yield folder
    finally:
        subprocess.run([chattr, "-i", str(folder)], check=True)


async def test_write_into_an_immutable_folder_fails_cleanly(
    ws: Path, immutable_folder: Path
) -> None:
    async with Client(build_workspace_server(ws, 4096, 100)) as client:
        code, message = error_of(await create_file(client, "frozen/x.txt", "hello"))
    assert code == "write_failed"
    assert "EPERM" in message
    assert str(ws) not in message and "/" not in message
    assert list(immutable_folder.iterdir()) == []


async def test_hitting_the_file_size_limit_fails_cleanly_over_stdio(ws: Path) -> None:
    """RLIMIT_FSIZE makes write() fail with EFBIG, as a full disk would fail it with ENOSPC."""
    # No bytecode writes under the limit: CPython would leave truncated .pyc files behind.
    limited_server = (
        "import resource, runpy, sys;"
        "sys.dont_write_bytecode = True;"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096));"
        "runpy.run_module('gatehouse.workspace_server', run_name='__main__', alter_sys=True)"
    )
    params = StdioServerParameters(
        command=PYTHON,
        args=["-c", limited_server],
        env={**workspace_env(ws, chunk_bytes=1024), "PYTHONDONTWRITEBYTECODE": "1"},
        cwd=BACKEND_DIR,
    )
    progress = ProgressLog()
    async with Client(params, read_timeout_seconds=30) as client:
        small = await create_file(client, "small.txt", "fits", progress)
        code, message = error_of(await create_file(client, "big.txt", "x" * 10_000, progress))
    assert not small.is_error and (ws / "small.txt").read_text() == "fits"
    assert code == "write_failed" and "EFBIG" in message
    assert not (ws / "big.txt").exists()
    assert leftovers(ws) == []


SDK_PREFIX = "Error executing tool create_file: "


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SDK_PREFIX + "[invalid_path] path contains '..'", ("invalid_path", "path contains '..'")),
        ("[write_failed] no (ENOSPC: No space)", ("write_failed", "no (ENOSPC: No space)")),
        (SDK_PREFIX + "1 validation error", ("tool_error", "1 validation error")),
        ("plain failure", ("tool_error", "plain failure")),
    ],
)  # fmt: skip
def test_parse_tool_error_finds_the_code(text: str, expected: tuple[str, str]) -> None:
    assert parse_tool_error(text) == expected


async def test_serves_streamable_http(ws: Path) -> None:
    progress = ProgressLog()
    async with http_server(ws) as url, Client(url, read_timeout_seconds=30) as client:
        tools = (await client.list_tools()).tools
        result = await create_file(client, "over/http.txt", "hello over http", progress)
    assert [tool.name for tool in tools] == ["create_file", "edit_file", "read_file", "list_files"]
    assert not result.is_error
    assert (ws / "over" / "http.txt").read_text() == "hello over http"
    assert progress.offsets and max(progress.offsets) == len("hello over http")
