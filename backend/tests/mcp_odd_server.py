"""A small MCP server (stdio) with the awkward shapes third-party servers send.

Its tool list comes in two pages; names have dots, collide once sanitised, or are longer than
Claude allows; one schema declares draft-04; results include an error, audio, structured
content alone, and a protocol error. Run: `python -m tests.mcp_odd_server`.
"""

from __future__ import annotations

from typing import Any

import anyio
from mcp import MCPError
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.types import (
    INVALID_PARAMS,
    AudioContent,
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    Tool,
)

LONG_NAME = "a_tool_name_that_is_much_longer_than_the_sixty_four_characters_claude_allows"
_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}
# Draft-04's boolean exclusiveMinimum: valid only when the declared draft is honoured.
_DRAFT4_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "properties": {"n": {"type": "integer", "minimum": 0, "exclusiveMinimum": True}},
    "required": ["n"],
    "additionalProperties": False,
}

PAGES: list[list[Tool]] = [
    [
        Tool(name="dotted.name", description="Echoes its input.", input_schema=_OBJECT),
        Tool(name="dotted_name", description="Collides once sanitised.", input_schema=_OBJECT),
        Tool(name=LONG_NAME, description="Longer than 64 characters.", input_schema=_OBJECT),
    ],
    [
        Tool(name="fails", description="Always reports an error.", input_schema=_OBJECT),
        Tool(name="audio", description="Returns a sound.", input_schema=_OBJECT),
        Tool(name="structured_only", description="Structured content.", input_schema=_OBJECT),
        Tool(name="protocol_error", description="Answers with an error.", input_schema=_OBJECT),
        Tool(name="positive", description="Takes a positive integer.", input_schema=_DRAFT4_SCHEMA),
    ],
]


async def list_tools(
    _ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
) -> ListToolsResult:
    page = int(params.cursor) if params and params.cursor else 0
    next_cursor = str(page + 1) if page + 1 < len(PAGES) else None
    return ListToolsResult(tools=PAGES[page], next_cursor=next_cursor)


async def call_tool(
    _ctx: ServerRequestContext[Any], params: CallToolRequestParams
) -> CallToolResult:
    match params.name:
        case "fails":
            return CallToolResult(content=[TextContent(text="boom")], is_error=True)
        case "audio":
            return CallToolResult(content=[AudioContent(data="UklGRg==", mime_type="audio/wav")])
        case "structured_only":
            return CallToolResult(content=[], structured_content={"answer": 42})
        case "protocol_error":
            raise MCPError(INVALID_PARAMS, "no such thing")
        case _:
            return CallToolResult(content=[TextContent(text=f"{params.name} {params.arguments}")])


server = Server("odd", on_list_tools=list_tools, on_call_tool=call_tool)


async def main() -> None:
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
