"""The tool hub with real MCP servers: the built-in one in memory, and over stdio and HTTP
`mcp-server-time` (PyPI), `@modelcontextprotocol/server-everything` (npm), our own server run
alone, and a deliberately awkward test server. Servers are killed for real (SIGKILL).
"""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import anyio
import pytest

from gatehouse.mcp_config import (
    HttpServerConfig,
    McpConfigError,
    StdioServerConfig,
    expand_variables,
    load_mcp_config,
)
from gatehouse.metrics import REGISTRY
from gatehouse.tool_hub import ToolHub, ToolOutcome, _ProgressGate  # pyright: ignore[reportPrivateUsage]
from gatehouse.workspace_server import build_workspace_server
from tests.mcp_odd_server import LONG_NAME
from tests.mcp_support import (
    BACKEND_DIR,
    PYTHON,
    http_server,
    peer_binary,
    snapshot,
    wait_until,
    with_pid_file,
    workspace_env,
)

pytestmark = pytest.mark.anyio

CLAUDE_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


class ProgressLog:
    """Records progress, and whether any arrived after the call had returned."""

    def __init__(self) -> None:
        self.events: list[tuple[float, float | None, str | None]] = []
        self.call_returned = False
        self.late = 0
        self.arrived = anyio.Event()

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        if self.call_returned:
            self.late += 1
        self.events.append((progress, total, message))
        self.arrived.set()

    @property
    def values(self) -> list[float]:
        return [progress for progress, _, _ in self.events]


async def call(
    hub: ToolHub, name: str, args: dict[str, Any], log: ProgressLog | None = None
) -> ToolOutcome:
    log = log or ProgressLog()
    outcome = await hub.call(name, args, log)
    log.call_returned = True
    return outcome


def text_of(outcome: ToolOutcome) -> str:
    return "".join(block["text"] for block in outcome.content if block["type"] == "text")


def errors_counted(server: str) -> float:
    return REGISTRY.get_sample_value("gatehouse_mcp_errors_total", {"server": server}) or 0.0


# ── MCP_CONFIG ───────────────────────────────────────────────────────────────────────────
def write_config(tmp_path: Path, servers: object) -> Path:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": servers}))
    return path


def test_config_reads_stdio_and_http_servers_with_variables(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        {
            "time": {
                "command": "${PY}",
                "args": ["-m", "mcp_server_time", "--local-timezone=${TZ_NAME:-UTC}"],
                "env": {"TOKEN": "${SECRET}", "EMPTY": "${UNSET_VAR}"},
                "cwd": "/srv",
            },
            "docs": {
                "url": "https://docs.example/mcp",
                "headers": {"Authorization": "Bearer ${SECRET}"},
            },
            "typed": {"type": "http", "url": "http://127.0.0.1:9/mcp"},
        },
    )
    environ = {"PY": "/usr/bin/python3", "SECRET": "s3cret"}
    assert load_mcp_config(path, environ) == [
        StdioServerConfig(
            name="time",
            command="/usr/bin/python3",
            args=("-m", "mcp_server_time", "--local-timezone=UTC"),
            env={"TOKEN": "s3cret", "EMPTY": ""},
            cwd="/srv",
        ),
        HttpServerConfig(
            name="docs", url="https://docs.example/mcp", headers={"Authorization": "Bearer s3cret"}
        ),
        HttpServerConfig(name="typed", url="http://127.0.0.1:9/mcp"),
    ]


def test_variable_expansion() -> None:
    environ = {"A": "1", "EMPTY": ""}
    assert (
        expand_variables("${A}-${B}-${B:-two}-${EMPTY:-three}-$A-${A:-x}", environ)
        == "1--two-three-$A-1"
    )


@pytest.mark.parametrize(
    ("servers", "problem"),
    [
        ({"workspace": {"command": "x"}}, "'workspace': the name is reserved"),
        ({"bad name": {"command": "x"}}, "'bad name': the name must be"),
        ({"x" * 41: {"command": "x"}}, "the name must be 1-40"),
        ({"sse": {"type": "sse", "url": "http://h/sse"}}, "'sse': unknown transport type 'sse'"),
        ({"s": {"args": ["a"]}}, "'s': 'command' is missing"),
        ({"s": {"command": "x", "args": "a b"}}, "'s': 'args' must be a list of strings"),
        ({"s": {"command": "x", "env": {"A": 1}}}, "'s': 'env' must be an object of strings"),
        ({"s": {"url": "ftp://h"}}, "'s': 'url' must start with http"),
        ({"s": "npx thing"}, "'s': the entry must be an object"),
    ],
)
def test_config_problems_name_the_server(tmp_path: Path, servers: object, problem: str) -> None:
    with pytest.raises(McpConfigError) as caught:
        load_mcp_config(write_config(tmp_path, servers), {})
    assert problem in str(caught.value)
    assert "\n" not in str(caught.value)


def test_config_file_problems(tmp_path: Path) -> None:
    with pytest.raises(McpConfigError, match="file not found"):
        load_mcp_config(tmp_path / "missing.json", {})
    broken = tmp_path / "broken.json"
    broken.write_text('{"mcpServers": {')
    with pytest.raises(McpConfigError, match="not valid JSON"):
        load_mcp_config(broken, {})
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    with pytest.raises(McpConfigError, match="top level"):
        load_mcp_config(listed, {})


# ── one hub with every kind of server ───────────────────────────────────────────────────
@pytest.fixture(scope="module")
def module_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hub")


@pytest.fixture(scope="module")
async def full_hub(module_dir: Path) -> AsyncGenerator[ToolHub]:
    """Built-in + time + everything + odd (stdio) + our server over stdio and over HTTP."""
    ws, files_ws, remote_ws = module_dir / "ws", module_dir / "files-ws", module_dir / "remote-ws"
    async with http_server(remote_ws, chunk_bytes=3) as url:
        config = write_config(
            module_dir,
            {
                "time": {
                    "command": "${PY}",
                    "args": ["-m", "mcp_server_time", "--local-timezone=${TZ:-UTC}"],
                },
                "everything": {"command": str(peer_binary("mcp-server-everything"))},
                "odd": {
                    "command": "${PY}",
                    "args": ["-m", "tests.mcp_odd_server"],
                    "cwd": str(BACKEND_DIR),
                },
                "files": {
                    "command": "${PY}",
                    "args": ["-m", "gatehouse.workspace_server"],
                    "env": workspace_env(files_ws, chunk_bytes=1),
                    "cwd": str(BACKEND_DIR),
                },
                "remote": {"type": "http", "url": url},
            },
        )
        servers = load_mcp_config(config, {"PY": PYTHON})
        workspace = build_workspace_server(ws, 4, 1000)
        async with ToolHub(workspace, servers, 30, startup_wait_s=20) as hub:
            yield hub


async def test_every_server_is_ready_and_its_tools_are_offered(full_hub: ToolHub) -> None:
    assert full_hub.servers_status() == dict.fromkeys(
        ["workspace", "time", "everything", "odd", "files", "remote"], "ready"
    )
    tools = full_hub.tools_for_claude()
    names = [tool["name"] for tool in tools]
    assert len(names) == len(set(names))
    assert all(CLAUDE_NAME.match(name) for name in names), names
    assert names[0] == "create_file"
    expected = {
        "time__get_current_time",
        "everything__echo",
        "everything__trigger-long-running-operation",
        "odd__dotted_name",
        "odd__dotted_name_2",
        "odd__positive",  # second page of the listing
        "files__create_file",
        "remote__create_file",
    }
    assert expected <= set(names)
    assert f"odd__{LONG_NAME}"[:64] in names
    for tool in tools:
        # Fine-grained input streaming only for the built-in tools whose call is previewed.
        eager = tool["name"] in ("create_file", "edit_file")
        assert set(tool) == {"name", "description", "input_schema"} | (
            {"eager_input_streaming"} if eager else set()
        )
        assert "$schema" not in tool["input_schema"]
        assert tool["input_schema"]["type"] == "object"
        assert tool["description"]


async def test_lookup_tells_where_a_tool_lives(full_hub: ToolHub) -> None:
    builtin = full_hub.lookup("create_file")
    assert builtin is not None
    assert (builtin.server, builtin.mcp_name, builtin.builtin, builtin.destructive) == (
        "workspace",
        "create_file",
        True,
        True,
    )
    clock = full_hub.lookup("time__get_current_time")
    assert clock is not None
    assert (clock.server, clock.mcp_name, clock.builtin, clock.destructive) == (
        "time",
        "get_current_time",
        False,
        False,  # read-only
    )
    dotted = full_hub.lookup("odd__dotted_name")
    assert dotted is not None and dotted.mcp_name == "dotted.name"
    assert full_hub.lookup("nope") is None


async def test_calls_reach_each_server(full_hub: ToolHub, module_dir: Path) -> None:
    written = await call(full_hub, "create_file", {"path": "hub.txt", "content": "from the hub"})
    assert not written.is_error and (module_dir / "ws" / "hub.txt").read_text() == "from the hub"
    assert json.loads(text_of(written))["bytes_written"] == 12

    clock = await call(full_hub, "time__get_current_time", {"timezone": "UTC"})
    assert not clock.is_error and json.loads(text_of(clock))["timezone"] == "UTC"

    echo = await call(full_hub, "everything__echo", {"message": "hello"})
    assert (echo.is_error, text_of(echo)) == (False, "Echo: hello")

    image = await call(full_hub, "everything__get-tiny-image", {})
    [picture] = [block for block in image.content if block["type"] == "image"]
    assert picture["source"]["type"] == "base64" and picture["source"]["media_type"] == "image/png"

    remote = await call(full_hub, "remote__create_file", {"path": "r.txt", "content": "remote"})
    assert not remote.is_error and (module_dir / "remote-ws" / "r.txt").read_text() == "remote"


async def test_third_party_results_become_tool_results(full_hub: ToolHub) -> None:
    failed = await call(full_hub, "odd__fails", {})
    assert (failed.is_error, failed.code, failed.message) == (True, "tool_error", "boom")
    audio = await call(full_hub, "odd__audio", {})
    assert not audio.is_error and json.loads(text_of(audio))["mimeType"] == "audio/wav"
    structured = await call(full_hub, "odd__structured_only", {})
    assert json.loads(text_of(structured)) == {"answer": 42}
    refused = await call(full_hub, "odd__protocol_error", {})
    assert refused.is_error and refused.code == "tool_error"
    assert refused.message and "no such thing" in refused.message
    unknown = await call(full_hub, "nope__tool", {})
    assert (unknown.is_error, unknown.code) == (True, "tool_error")


async def test_builtin_errors_keep_their_code(full_hub: ToolHub) -> None:
    outcome = await call(full_hub, "create_file", {"path": "../escape.txt", "content": "x"})
    assert (outcome.is_error, outcome.code, outcome.message) == (
        True,
        "invalid_path",
        "path contains '..'",
    )
    assert outcome.content[0]["type"] == "text" and "[invalid_path]" in outcome.content[0]["text"]
    too_big = await call(full_hub, "create_file", {"path": "big.txt", "content": "x" * 1001})
    assert too_big.code == "file_too_large"


async def test_progress_is_rising_and_ends_with_the_call(
    full_hub: ToolHub, module_dir: Path
) -> None:
    content = "ação " * 300  # 2100 bytes in chunks of one character: 1500 notifications
    log = ProgressLog()
    outcome = await call(full_hub, "files__create_file", {"path": "p.txt", "content": content}, log)
    assert not outcome.is_error
    assert (module_dir / "files-ws" / "p.txt").read_text() == content
    assert log.values == sorted(set(log.values)) and log.values
    assert max(log.values) <= len(content.encode())

    steps = ProgressLog()
    args = {"duration": 0.4, "steps": 4}
    long_run = await call(full_hub, "everything__trigger-long-running-operation", args, steps)
    assert not long_run.is_error
    assert steps.values == sorted(set(steps.values))
    # Later calls give any straggling notification of the first ones time to arrive.
    await call(full_hub, "everything__echo", {"message": "after"})
    assert log.late == 0 and steps.late == 0


async def test_validate_input_uses_the_declared_schema(full_hub: ToolHub) -> None:
    assert full_hub.validate_input("create_file", {"path": "a.txt", "content": "x"}) == []
    missing = full_hub.validate_input("create_file", {"path": 3})
    assert "path: 3 is not of type 'string'" in missing
    assert "'content' is a required property" in missing
    assert full_hub.validate_input("odd__positive", {"n": 1}) == []
    assert full_hub.validate_input("odd__positive", {"n": 0}) == [
        "n: 0 is less than or equal to the minimum of 0"
    ]
    assert len(full_hub.validate_input("odd__positive", {"n": 1, "extra": True})) == 1
    assert full_hub.validate_input("everything__get-sum", {"a": 1, "b": 2}) == []
    assert full_hub.validate_input("everything__get-sum", {"a": "1", "b": 2}) != []
    assert full_hub.validate_input("odd__positive", "not an object") != []
    assert full_hub.validate_input("nope", {}) == ["unknown tool 'nope'"]


async def test_preview_describes_a_create_file_call(full_hub: ToolHub, module_dir: Path) -> None:
    ws = module_dir / "ws"
    (ws / "exists.txt").write_text("old")
    assert full_hub.preview("create_file", {"path": "./exists.txt", "content": "é"}) == {
        "path": "exists.txt",
        "bytes": 2,
        "overwrite": True,
        "valid_path": True,
        "problem": None,
        "diff": {
            "added": 1,
            "removed": 1,
            "hunks": [
                {
                    "old_start": 1,
                    "old_lines": 1,
                    "new_start": 1,
                    "new_lines": 1,
                    "lines": ["-old", "+é"],
                }
            ],
            "truncated": False,
            "skipped": None,
        },
    }
    fresh = full_hub.preview("create_file", {"path": "new/dir/f.txt", "content": "x" * 1001})
    assert fresh == {
        "path": "new/dir/f.txt",
        "bytes": 1001,
        "overwrite": False,
        "valid_path": True,
        "problem": "content is 1001 bytes; the limit is 1000 bytes",
        "diff": fresh and fresh["diff"],
    }
    assert fresh is not None and (fresh["diff"]["added"], fresh["diff"]["removed"]) == (1, 0)
    bad = full_hub.preview("create_file", {"path": "/etc/passwd", "content": ""})
    assert bad is not None and (bad["valid_path"], bad["overwrite"]) == (False, False)
    assert bad["problem"] == "path is absolute; give a path relative to the workspace"
    assert not (ws / "new").exists()  # a preview writes nothing
    assert full_hub.preview("files__create_file", {"path": "a", "content": ""}) is None
    assert full_hub.preview("everything__echo", {"message": "x"}) is None


# ── failures ─────────────────────────────────────────────────────────────────────────────
def read_pid(path: Path) -> int:
    return int(path.read_text().strip()) if path.exists() and path.read_text().strip() else 0


async def test_a_killed_server_is_withdrawn_and_comes_back(tmp_path: Path) -> None:
    time_pid, everything_pid = tmp_path / "time.pid", tmp_path / "everything.pid"
    time_cmd, time_args = with_pid_file(
        time_pid, PYTHON, "-m", "mcp_server_time", "--local-timezone=UTC"
    )
    ev_cmd, ev_args = with_pid_file(everything_pid, str(peer_binary("mcp-server-everything")))
    servers = [
        StdioServerConfig("time", time_cmd, time_args),
        StdioServerConfig("everything", ev_cmd, ev_args),
    ]
    async with ToolHub(build_workspace_server(tmp_path / "ws", 4096, 1000), servers, 20) as hub:
        assert set(hub.servers_status().values()) == {"ready"}
        assert not (await call(hub, "time__get_current_time", {"timezone": "UTC"})).is_error
        first_pid, errors_before = read_pid(time_pid), errors_counted("time")

        os.kill(first_pid, signal.SIGKILL)
        await wait_until(lambda: hub.servers_status()["time"] != "ready")
        down = await call(hub, "time__get_current_time", {"timezone": "UTC"})
        assert (down.is_error, down.code) == (True, "server_unavailable")
        assert not any(t["name"].startswith("time__") for t in hub.tools_for_claude())
        assert hub.lookup("time__get_current_time") is None
        assert hub.unavailable_server("time__get_current_time") == "time"
        assert hub.unavailable_server("time__no_such_tool") is None
        assert errors_counted("time") == errors_before + 1
        # The other servers are untouched.
        assert hub.servers_status()["everything"] == "ready"
        assert text_of(await call(hub, "everything__echo", {"message": "still"})) == "Echo: still"
        assert not (await call(hub, "create_file", {"path": "a.txt", "content": "a"})).is_error

        await wait_until(lambda: hub.servers_status()["time"] == "ready", timeout_s=15)
        assert read_pid(time_pid) not in (0, first_pid)
        assert hub.unavailable_server("time__get_current_time") is None
        assert hub.lookup("time__get_current_time") is not None
        back = await call(hub, "time__get_current_time", {"timezone": "UTC"})
        assert not back.is_error

        # A crash in the middle of a 30 s call ends that call at once.
        steps = ProgressLog()

        async def kill_on_first_progress() -> None:
            await steps.arrived.wait()
            os.kill(read_pid(everything_pid), signal.SIGKILL)

        args = {"duration": 30, "steps": 30}
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(kill_on_first_progress)
                crashed = await call(hub, "everything__trigger-long-running-operation", args, steps)
                assert (crashed.is_error, crashed.code) == (True, "server_unavailable")
        await wait_until(lambda: hub.servers_status()["everything"] == "ready", timeout_s=15)
        assert text_of(await call(hub, "everything__echo", {"message": "again"})) == "Echo: again"


async def test_servers_that_never_connect_do_not_hold_up_start_up(tmp_path: Path) -> None:
    silent = "import sys; sys.stdin.read()"  # reads requests and never answers
    servers = [
        StdioServerConfig("ghost", str(tmp_path / "no-such-program")),
        StdioServerConfig("silent", PYTHON, ("-c", silent)),
    ]
    errors_before = errors_counted("ghost")
    started = anyio.current_time()
    async with ToolHub(
        build_workspace_server(tmp_path / "ws", 4096, 100), servers, 5, startup_wait_s=1.0
    ) as hub:
        assert anyio.current_time() - started < 3
        status = hub.servers_status()
        assert status["workspace"] == "ready" and status["silent"] == "connecting"
        assert status["ghost"] in ("disconnected", "connecting")
        assert [tool["name"] for tool in hub.tools_for_claude()] == [
            "create_file",
            "edit_file",
            "read_file",
            "list_files",
        ]
        assert not (await call(hub, "create_file", {"path": "ok.txt", "content": "ok"})).is_error
        assert errors_counted("ghost") > errors_before


async def test_a_call_over_the_time_limit_is_stopped(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    slow = build_workspace_server(ws, 1, 1000, chunk_delay_s=0.05)
    errors_before = errors_counted("workspace")
    async with ToolHub(slow, [], 0.3) as hub:
        outcome = await call(hub, "create_file", {"path": "slow.txt", "content": "x" * 100})
    assert (outcome.is_error, outcome.code) == (True, "tool_timeout")
    assert "0.3 s" in text_of(outcome)
    assert snapshot(ws) == {}
    assert errors_counted("workspace") == errors_before + 1


async def test_cancelling_the_caller_stops_the_tool(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    slow = build_workspace_server(ws, 1, 1000, chunk_delay_s=0.05)
    log = ProgressLog()
    async with ToolHub(slow, [], 30) as hub:
        with anyio.CancelScope() as scope:

            async def cancel_on_progress() -> None:
                await log.arrived.wait()
                scope.cancel()

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(cancel_on_progress)
                await hub.call("create_file", {"path": "c.txt", "content": "x" * 100}, log)
        assert scope.cancelled_caught
    assert snapshot(ws) == {}


async def test_progress_gate_orders_and_closes() -> None:
    seen: list[float] = []

    async def sink(progress: float, _total: float | None, _message: str | None) -> None:
        seen.append(progress)

    gate = _ProgressGate(sink)
    for value in (1.0, 3.0, 2.0, 3.0, 5.0):  # as notifications may arrive: late and repeated
        await gate(value, 10.0, None)
    await gate.close()
    await gate(7.0, 10.0, None)
    assert seen == [1.0, 3.0, 5.0]
