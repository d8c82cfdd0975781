"""What the person's answer in the approval dialog means, beyond yes or no.

The scope (`conversation` or `always` make a rule), the path glob of that rule, the reason of
a denial (told to Claude) and an edited input (checked exactly as Claude's input is: its
JSON schema, its nesting depth, the workspace's path rules) are turned here into a rule spec,
a checked input and the texts Claude reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import orjson
from pydantic import ValidationError

from gatehouse.approvals import Refusal
from gatehouse.history_repair import too_deep
from gatehouse.protocol import ToolApprovalData
from gatehouse.rules import Call, Condition, RuleSpec, path_fields
from gatehouse.sanitise import clean_json, clean_text
from gatehouse.tool_hub import ToolHub, ToolInfo

JsonDict = dict[str, Any]

DENIED_TEXT = "The tool call was denied by the user; it did not run."
RULE_DENIED_TEXT = "The tool call was denied by a rule the user set ({label}); it did not run."
_MAX_NOTE_VALUE = 300


def rule_call(conversation_id: str, info: ToolInfo, tool_input: Mapping[str, object]) -> Call:
    fields = path_fields(tool_input, info.path_field)
    return Call(conversation_id, info.server, info.mcp_name, tool_input, fields)


def dialog_rule(answer: ToolApprovalData, info: ToolInfo) -> RuleSpec | Refusal | None:
    """The rule a scoped answer creates (allow or deny this server + tool), or None (once)."""
    if answer.scope == "once":
        return None
    conditions: list[JsonDict] = []
    if answer.path_glob is not None:
        fields = path_fields({}, info.path_field) or ("path",)
        conditions.append({"field": fields[0], "path_glob": answer.path_glob})
    try:
        return RuleSpec.model_validate(
            {
                "effect": "allow" if answer.approved else "deny",
                "server": info.server,
                "tool": info.mcp_name,
                "conditions": [Condition.model_validate(c) for c in conditions],
            }
        )
    except ValidationError as exc:
        return Refusal("invalid_rule", [str(e["msg"]) for e in exc.errors()][:5])


def checked_edit(tools: ToolHub, name: str, edited: JsonDict) -> JsonDict | Refusal:
    """The edited input, cleaned, when it passes every check Claude's input passes."""
    edited = clean_json(edited)
    if too_deep(edited):
        return Refusal("invalid_edit", ["the input is nested too deeply"])
    if errors := tools.validate_input(name, edited):
        return Refusal("invalid_edit", errors[:5])
    preview = tools.preview(name, edited)
    if preview is not None and not preview["valid_path"]:
        return Refusal("invalid_edit", [f"invalid_path: {preview.get('problem') or 'outside'}"])
    return edited


def denied_text(reason: str | None) -> str:
    reason = clean_text(reason).strip() if reason else ""
    return f"{DENIED_TEXT} The user's reason: {reason}" if reason else DENIED_TEXT


def edit_note(original: JsonDict, edited: JsonDict) -> str:
    """Tells Claude that the person changed the input, and how."""
    changes: list[str] = []
    for key in sorted(set(original) | set(edited)):
        before, after = original.get(key), edited.get(key)
        if before == after:
            continue
        if key not in edited:
            changes.append(f"{key}: removed")
        elif isinstance(after, str) and len(after) > _MAX_NOTE_VALUE:
            size = len(before) if isinstance(before, str) else 0
            changes.append(f"{key}: replaced ({size} → {len(after)} characters)")
        else:
            changes.append(f"{key}: {_short(before)} → {_short(after)}")
    listed = "; ".join(changes) or "no field changed"
    return (
        "The user edited this call's input before approving it; it ran with the edited "
        f"input. Changes: {listed}."
    )


def _short(value: object) -> str:
    if value is None:
        return "(absent)"
    text = orjson.dumps(value).decode()
    return text if len(text) <= _MAX_NOTE_VALUE else text[:_MAX_NOTE_VALUE] + "…"


def as_dict(value: object) -> JsonDict:
    return cast(JsonDict, value) if isinstance(value, dict) else {}
