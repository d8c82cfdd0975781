"""A small MCP server (stdio) whose tools declare annotations, honest and hostile.

`wipe` declares itself destructive, `lookup` read-only and closed-world; the others send what
no honest server would: strings for booleans, nested objects, numbers, annotations that are not
an object, a huge title. The SDK's own server refuses to send such a listing, so this one
writes its JSON-RPC lines itself, as a hostile server would.
Run: `python -m tests.mcp_hints_server`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}

# tool name → the raw `annotations` value it sends (None: the field is left out)
ANNOTATIONS: dict[str, object] = {
    "wipe": {"destructiveHint": True, "readOnlyHint": False, "idempotentHint": False},
    "lookup": {"readOnlyHint": True, "openWorldHint": False},
    "plain": None,
    "strings": {"readOnlyHint": "yes", "destructiveHint": "no", "openWorldHint": "maybe"},
    "nested": {"destructiveHint": {"$gt": 1}, "idempotentHint": [True], "openWorldHint": 1.5},
    "not_an_object": "destructive",
    "huge": {"title": "x" * 100_000, "destructiveHint": True, "extra": list(range(1000))},
}


def _tool(name: str, annotations: object) -> dict[str, object]:
    tool: dict[str, object] = {
        "name": name,
        "description": f"The {name} tool.",
        "inputSchema": _OBJECT,
    }
    if annotations is not None:
        tool["annotations"] = annotations
    return tool


def _result(request: dict[str, Any]) -> object:
    match request["method"]:
        case "initialize":
            return {
                "protocolVersion": request["params"]["protocolVersion"],
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "hints", "version": "1"},
            }
        case "tools/list":
            return {"tools": [_tool(name, value) for name, value in ANNOTATIONS.items()]}
        case "tools/call":
            name = request["params"]["name"]
            return {"content": [{"type": "text", "text": f"{name} ran"}], "isError": False}
        case _:
            return {}


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        if "id" not in request:
            continue  # a notification
        answer = {"jsonrpc": "2.0", "id": request["id"], "result": _result(request)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
