"""Result mapping: each kind of MCP content a server can answer with, as Claude receives it,
and the error code the person is shown. Results come from a real MCP server, in memory."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.server import Server, ServerRequestContext
from mcp.types import (
    AudioContent,
    CallToolRequestParams,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    ListToolsResult,
    PaginatedRequestParams,
    ResourceLink,
    TextContent,
    TextResourceContents,
    Tool,
)

from gatehouse.tool_results import ToolOutcome, failure, outcome_of, unavailable

pytestmark = pytest.mark.anyio

PNG = "iVBORw0KGgo="
RESULTS: dict[str, CallToolResult] = {
    "texts": CallToolResult(content=[TextContent(text=""), TextContent(text="half \udc80 pair")]),
    "images": CallToolResult(
        content=[
            ImageContent(data=PNG, mime_type="image/png"),
            ImageContent(data="PHN2Zz4=", mime_type="image/svg+xml"),
        ]
    ),
    "audio": CallToolResult(content=[AudioContent(data="UklGRg==", mime_type="audio/wav")]),
    "resources": CallToolResult(
        content=[
            ResourceLink(name="readme", uri="file:///readme.md"),
            EmbeddedResource(resource=TextResourceContents(uri="file:///a.txt", text="inside")),
        ]
    ),
    "structured_only": CallToolResult(content=[], structured_content={"answer": 42}),
    "nothing": CallToolResult(content=[]),
    "coded_error": CallToolResult(
        content=[TextContent(text="[file_too_large] content is 9 bytes; the limit is 4 bytes")],
        is_error=True,
    ),
    "arguments_error": CallToolResult(
        content=[TextContent(text="[invalid_arguments] path: Field required")], is_error=True
    ),
    "plain_error": CallToolResult(
        content=[TextContent(text="Error executing tool plain_error: boom")], is_error=True
    ),
    "silent_error": CallToolResult(content=[], is_error=True),
}


async def list_tools(
    _ctx: ServerRequestContext[Any], _params: PaginatedRequestParams | None
) -> ListToolsResult:
    return ListToolsResult(
        tools=[Tool(name=name, input_schema={"type": "object"}) for name in RESULTS]
    )


async def call_tool(
    _ctx: ServerRequestContext[Any], params: CallToolRequestParams
) -> CallToolResult:
    return RESULTS[params.name]


SERVER = Server("results", on_list_tools=list_tools, on_call_tool=call_tool)


async def outcome(name: str, *, builtin: bool = False) -> ToolOutcome:
    async with Client(SERVER) as client:
        result = await client.call_tool(name, {})
    return outcome_of(result, builtin=builtin)


async def test_text_is_sanitised_and_empty_text_dropped() -> None:
    mapped = await outcome("texts")
    assert mapped == ToolOutcome(False, None, None, [{"type": "text", "text": "half \ufffd pair"}])


async def test_supported_images_become_image_blocks_and_others_are_described() -> None:
    png, svg = (await outcome("images")).content
    assert png == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
    }
    assert svg["type"] == "text" and '"mimeType": "image/svg+xml"' in svg["text"]


async def test_audio_and_resources_are_described_rather_than_dropped() -> None:
    [audio] = (await outcome("audio")).content
    assert audio["type"] == "text" and '"mimeType": "audio/wav"' in audio["text"]
    link, embedded = (await outcome("resources")).content
    assert '"uri": "file:///readme.md"' in link["text"]
    assert '"text": "inside"' in embedded["text"]


async def test_structured_content_stands_in_for_missing_content() -> None:
    assert (await outcome("structured_only")).content == [
        {"type": "text", "text": '{"answer": 42}'}
    ]
    assert (await outcome("nothing")).content == [{"type": "text", "text": "(no output)"}]


async def test_a_builtin_tools_error_keeps_its_bracketed_code() -> None:
    too_large = await outcome("coded_error", builtin=True)
    assert (too_large.is_error, too_large.code) == (True, "file_too_large")
    assert too_large.message == "content is 9 bytes; the limit is 4 bytes"
    # Input is checked against the schema before a call: the server refusing it is its bug.
    assert (await outcome("arguments_error", builtin=True)).code == "tool_error"
    plain = await outcome("plain_error", builtin=True)
    assert (plain.code, plain.message) == ("tool_error", "boom")


async def test_another_servers_error_is_a_tool_error_whatever_its_text() -> None:
    borrowed = await outcome("coded_error")
    assert borrowed.code == "tool_error"  # another server cannot pick the person's message
    assert borrowed.message == "[file_too_large] content is 9 bytes; the limit is 4 bytes"
    silent = await outcome("silent_error")
    assert (silent.code, silent.message) == ("tool_error", "the tool reported an error")
    assert silent.content == [{"type": "text", "text": "(no output)"}]


def test_a_failure_reads_code_then_message_to_claude() -> None:
    failed = failure("tool_error", "MCP error -32602: bad \udc80")
    assert failed.message == "MCP error -32602: bad \ufffd"
    assert failed.content == [{"type": "text", "text": "[tool_error] MCP error -32602: bad \ufffd"}]
    down = unavailable("time", "connecting")
    assert (down.is_error, down.code) == (True, "server_unavailable")
    assert down.content[0]["text"] == (
        "[server_unavailable] the MCP server 'time' is not available (connecting)"
    )
