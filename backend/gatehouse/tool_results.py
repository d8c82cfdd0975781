"""MCP results → the content of Claude's `tool_result`, and an error code for the person.

Every error outcome carries a code (`tool_error`, `tool_timeout`, `server_unavailable`, or
the bracketed code of a built-in tool's error) and a message; a failure the app detects
itself reads `[code] message` to Claude. Texts are sanitised: they may quote what a server
sent, and one unencodable string would fail every later request to Claude.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mcp.types import CallToolResult, ImageContent, TextContent

from gatehouse.sanitise import clean_text
from gatehouse.workspace_server import INVALID_ARGUMENTS, TOOL_ERROR, parse_tool_error

TOOL_TIMEOUT = "tool_timeout"
SERVER_UNAVAILABLE = "server_unavailable"

_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_MAX_TEXT_BLOCK = 100_000


@dataclass(frozen=True)
class ToolOutcome:
    """The result of one call, ready to become an Anthropic `tool_result`."""

    is_error: bool
    code: str | None
    message: str | None
    content: list[dict[str, Any]]


def outcome_of(result: CallToolResult, *, builtin: bool) -> ToolOutcome:
    """A server's answer; a built-in tool's error text starts with its code in brackets."""
    content = content_blocks(result)
    if not result.is_error:
        return ToolOutcome(False, None, None, content)
    # The server's own words: not a described image or the "(no output)" stand-in.
    text = " ".join(i.text for i in result.content if isinstance(i, TextContent)).strip()
    text = clean_text(text)
    if builtin:
        code, message = parse_tool_error(text)
        if code == INVALID_ARGUMENTS:  # the schema check before a call makes this a server bug
            code = TOOL_ERROR
    else:
        code, message = TOOL_ERROR, text or "the tool reported an error"
    return ToolOutcome(True, code, message, content)


def content_blocks(result: CallToolResult) -> list[dict[str, Any]]:
    """MCP content → Anthropic tool_result content (text and image blocks)."""
    blocks: list[dict[str, Any]] = []
    for item in result.content:
        if isinstance(item, TextContent):
            if item.text:  # Claude refuses an empty text block
                blocks.append({"type": "text", "text": clean_text(item.text)})
        elif isinstance(item, ImageContent) and item.mime_type in _IMAGE_TYPES:
            source = {"type": "base64", "media_type": item.mime_type, "data": item.data}
            blocks.append({"type": "image", "source": source})
        else:  # audio, resource links, embedded resources: described rather than dropped
            described = item.model_dump(mode="json", by_alias=True, exclude_none=True)
            blocks.append({"type": "text", "text": json.dumps(described)[:_MAX_TEXT_BLOCK]})
    if not blocks and result.structured_content is not None:
        blocks.append({"type": "text", "text": json.dumps(result.structured_content)})
    if not blocks:
        blocks.append({"type": "text", "text": "(no output)"})
    return blocks


def failure(code: str, message: str) -> ToolOutcome:
    """An error the app detected itself (the call did not run, or did not finish)."""
    message = clean_text(message)  # it may quote what an MCP server sent
    return ToolOutcome(True, code, message, [{"type": "text", "text": f"[{code}] {message}"}])


def unavailable(server: str, state: str) -> ToolOutcome:
    return failure(SERVER_UNAVAILABLE, f"the MCP server '{server}' is not available ({state})")
