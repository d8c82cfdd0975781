"""The catalogue: Claude's names for the tools of each server, their input validation, and the
behaviour a built-in tool declares. Listings come from real MCP servers, in memory."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server import MCPServer, Server
from mcp.types import Tool

from gatehouse.builtin_tools import BuiltinTool
from gatehouse.protocol import DiffHunk, FileDiff, FilePreview
from gatehouse.tool_catalogue import Catalogue
from gatehouse.tool_hub import ToolHub
from gatehouse.workspace_server import SERVER_NAME, WorkspaceServer, build_workspace_server
from tests import mcp_odd_server
from tests.mcp_odd_server import LONG_NAME

pytestmark = pytest.mark.anyio

CLAUDE_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


async def listing(server: MCPServer[Any] | Server[Any]) -> list[Tool]:
    tools: list[Tool] = []
    async with Client(server) as client:
        page = await client.list_tools()
        tools.extend(page.tools)
        while page.next_cursor is not None:
            page = await client.list_tools(cursor=page.next_cursor)
            tools.extend(page.tools)
    return tools


@pytest.fixture
def workspace(tmp_path: Path) -> WorkspaceServer:
    return build_workspace_server(tmp_path / "ws", 4096, 1000)


async def catalogue_of(workspace: WorkspaceServer, **others: list[Tool]) -> Catalogue:
    catalogue = Catalogue(SERVER_NAME, workspace.builtin_tools)
    catalogue.rebuild([(SERVER_NAME, await listing(workspace)), *others.items()])
    return catalogue


BUILTIN_TOOLS = ["create_file", "edit_file", "read_file", "list_files"]


async def test_other_servers_tools_are_prefixed_and_made_to_fit_claude(
    workspace: WorkspaceServer,
) -> None:
    catalogue = await catalogue_of(workspace, odd=await listing(mcp_odd_server.server))
    names = [tool["name"] for tool in catalogue.for_claude()]
    assert names[:7] == [
        *BUILTIN_TOOLS,
        "odd__dotted_name",
        "odd__dotted_name_2",
        f"odd__{LONG_NAME}"[:64],
    ]
    assert all(CLAUDE_NAME.match(name) for name in names), names
    dotted, collided = catalogue.lookup("odd__dotted_name"), catalogue.lookup("odd__dotted_name_2")
    assert dotted is not None and collided is not None
    assert (dotted.mcp_name, collided.mcp_name) == ("dotted.name", "dotted_name")
    assert catalogue.lookup("dotted.name") is None


async def test_only_the_builtin_server_carries_declared_behaviour(
    workspace: WorkspaceServer, tmp_path: Path
) -> None:
    namesake = build_workspace_server(tmp_path / "other", 4096, 1000)
    catalogue = await catalogue_of(workspace, files=await listing(namesake))
    builtin, external = catalogue.lookup("create_file"), catalogue.lookup("files__create_file")
    assert builtin is not None and external is not None
    assert (builtin.streamed_field, builtin.path_field) == ("content", "path")
    new_file = FilePreview(
        path="a.txt",
        bytes=2,
        overwrite=False,
        valid_path=True,
        diff=FileDiff(
            added=1,
            removed=0,
            hunks=[DiffHunk(old_start=0, old_lines=0, new_start=1, new_lines=1, lines=["+hi"])],
        ),
    )
    assert builtin.preview({"path": "a.txt", "content": "hi"}) == new_file
    assert (external.behaviour, external.streamed_field, external.path_field) == (None, None, None)
    assert external.preview({"path": "a.txt", "content": "hi"}) is None


async def test_a_tool_whose_server_went_away_is_routed_to_it_not_unknown(
    workspace: WorkspaceServer,
) -> None:
    catalogue = await catalogue_of(workspace, odd=await listing(mcp_odd_server.server))
    assert catalogue.former_server("odd__fails") is None  # offered now
    catalogue.rebuild([(SERVER_NAME, await listing(workspace))])
    assert catalogue.lookup("odd__fails") is None
    assert catalogue.former_server("odd__fails") == "odd"
    assert catalogue.former_server("odd__never_offered") is None
    assert catalogue.validate("odd__fails", {}) == ["unknown tool 'odd__fails'"]


async def test_input_is_validated_against_the_schemas_declared_draft(
    workspace: WorkspaceServer,
) -> None:
    loose = Tool(name="loose", input_schema={"type": "object", "properties": {"n": {"type": 5}}})
    odd = await listing(mcp_odd_server.server)
    catalogue = await catalogue_of(workspace, odd=odd, bad=[loose])
    # Draft-04's boolean exclusiveMinimum: 0 is refused only when draft-04 is honoured.
    assert catalogue.validate("odd__positive", {"n": 1}) == []
    assert catalogue.validate("odd__positive", {"n": 0}) != []
    assert catalogue.validate("create_file", {"path": 3}) == [
        "'content' is a required property",
        "path: 3 is not of type 'string'",
    ]
    # A schema that is not one is left to its server, but the input must still be an object.
    assert catalogue.validate("bad__loose", {"n": "anything"}) == []
    assert catalogue.validate("bad__loose", ["not", "an", "object"]) == ["input must be an object"]


async def test_a_builtin_tool_is_added_by_declaring_it(workspace: WorkspaceServer) -> None:
    @workspace.tool(name="append_note")
    async def append_note(path: str, text: str) -> str:  # pyright: ignore[reportUnusedFunction]
        return f"{len(text)} characters for {path}"

    def preview(tool_input: Any) -> FilePreview:
        return FilePreview(path=str(tool_input["path"]), bytes=0, overwrite=True, valid_path=True)

    workspace.builtin_tools["append_note"] = BuiltinTool(
        "append_note", preview=preview, streamed_field="text", path_field="path"
    )
    async with ToolHub(workspace, [], 30) as hub:
        info = hub.lookup("append_note")
        assert info is not None and (info.streamed_field, info.path_field) == ("text", "path")
        assert hub.preview("append_note", {"path": "n.md", "text": "hi"}) == {
            "path": "n.md",
            "bytes": 0,
            "overwrite": True,
            "valid_path": True,
            "problem": None,
            "diff": None,
        }

        async def ignore(_progress: float, _total: float | None, _message: str | None) -> None:
            return None

        outcome = await hub.call("append_note", {"path": "n.md", "text": "hi"}, ignore)
    assert not outcome.is_error and outcome.content[0]["text"] == "2 characters for n.md"
