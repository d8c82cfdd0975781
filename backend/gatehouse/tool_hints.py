"""What an MCP tool says about itself: its annotations (`readOnlyHint`, `destructiveHint`,
`idempotentHint`, `openWorldHint`), checked at the boundary and shown to the person.

The SDK validates a whole `tools/list` result at once: one tool whose annotations are not an
object, or whose hint is `"maybe"` or `{}`, would make the listing fail and withdraw every
tool of that server. So each listing is cleaned as it arrives from the transport, before the
SDK reads it: a hint is kept only when it is a real JSON boolean, anything else in the
annotations is dropped. The hints are the server's claims: the app shows them and never
decides anything by them.
"""

from __future__ import annotations

from typing import Any, cast

from mcp.shared.message import SessionMessage
from mcp.types import JSONRPCResponse, Tool

from gatehouse.protocol import ToolAnnotations

# MCP's names on the wire → ours
_HINTS = {
    "readOnlyHint": "read_only_hint",
    "destructiveHint": "destructive_hint",
    "idempotentHint": "idempotent_hint",
    "openWorldHint": "open_world_hint",
}


def clean_listing(item: SessionMessage | Exception) -> SessionMessage | Exception:
    """A message from a server with every listed tool's annotations reduced to valid hints."""
    if not isinstance(item, SessionMessage) or not isinstance(item.message, JSONRPCResponse):
        return item
    tools: object = item.message.result.get("tools")
    if not isinstance(tools, list):
        return item
    for tool in cast(list[object], tools):
        if isinstance(tool, dict) and "annotations" in tool:
            entry = cast(dict[str, Any], tool)
            hints = _declared_hints(entry["annotations"])
            if hints:
                entry["annotations"] = hints
            else:
                del entry["annotations"]
    return item


def _declared_hints(annotations: object) -> dict[str, bool]:
    if not isinstance(annotations, dict):
        return {}
    raw = cast(dict[str, object], annotations)
    return {name: value for name in _HINTS if isinstance(value := raw.get(name), bool)}


def hints_of(tool: Tool) -> ToolAnnotations | None:
    """The hints a listed tool declares, for its `tool_request`; None when it declares none."""
    declared = tool.annotations
    if declared is None:
        return None
    hints = ToolAnnotations(
        read_only_hint=declared.read_only_hint,
        destructive_hint=declared.destructive_hint,
        idempotent_hint=declared.idempotent_hint,
        open_world_hint=declared.open_world_hint,
    )
    return hints if hints.model_dump(exclude_none=True) else None
