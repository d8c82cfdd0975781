"""A history the Messages API accepts, by construction.

The API rejects a history unless: it starts with the person, roles alternate, every `tool_use`
id is unique and answered by exactly one `tool_result` at the start of the very next user
message, no `tool_result` answers anything else, and every string is valid Unicode. Once a
conversation is stored in any other shape, every later request of it fails, restarts included.
A turn that failed half-way, a crash between two writes, or an odd reply could leave one, so:

- `prepare_reply` cleans a new reply before it is stored, and gives every `tool_use` a unique,
  well-formed id; a call whose id had to be replaced, or whose input is nested deeper than
  `MAX_INPUT_DEPTH`, is refused (Claude is told why).
- `repair` mends a loaded history message by message; positions never move, because the
  store addresses messages by position. An unanswered round at the very end is left open: a
  pending approval may still finish it after a restart (`turn.Turns.restored`).
- `for_claude` is the last guard before a request: it also merges or drops what cannot be
  mended in place. It changes nothing in a history this app wrote. It leaves text alone
  (a walk over every string costs 5× the rest): text is cleaned where it comes in, by
  `prepare_reply`, by the tool hub for MCP texts, and by `repair` on load.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import structlog

from gatehouse.sanitise import clean_json
from gatehouse.store import StoredConversation

JsonDict = dict[str, Any]
log = structlog.get_logger(__name__)

_TOOL_USE_ID = re.compile(r"[a-zA-Z0-9_-]{1,128}")
# Deeper input cannot be shown to the person: the frame encoder stops at 254 levels.
MAX_INPUT_DEPTH = 64
_UNSAFE_ID_CHARS = re.compile(r"[^a-zA-Z0-9_-]")

UNANSWERED_TEXT = (
    "[tool_error] No result was recorded for this call (the turn failed or the server "
    "stopped); treat it as not done."
)
TOO_DEEP_TEXT = (
    f"[invalid_input] The input is nested more than {MAX_INPUT_DEPTH} levels deep, so it "
    "did not run; call the tool again with a flatter input."
)
REMOVED_RESULTS_TEXT = "(tool results that answered no tool call were removed)"
CONVERSATION_START_TEXT = "(the start of this conversation was lost)"


@dataclass(frozen=True)
class PreparedReply:
    """A reply's content blocks, ready to store, and the calls that must not run."""

    content: list[JsonDict]
    refused: dict[str, str] = field(default_factory=lambda: dict[str, str]())

    def tool_uses(self) -> list[JsonDict]:
        return [block for block in self.content if block.get("type") == "tool_use"]


@dataclass(frozen=True)
class Repaired:
    messages: list[JsonDict]
    changes: list[str]  # what was mended, for the log


def prepare_reply(content: Sequence[JsonDict], history: Sequence[JsonDict]) -> PreparedReply:
    taken = _tool_use_ids(history)
    blocks: list[JsonDict] = []
    refused: dict[str, str] = {}
    for block in content:
        block = clean_json(dict(block))
        if block.get("type") == "tool_use":
            block, original = _identified(block, taken)
            if original is not None:
                refused[block["id"]] = _renamed_text(original, taken)
            elif too_deep(block["input"]):
                refused[block["id"]] = TOO_DEEP_TEXT
        blocks.append(block)
    return PreparedReply(blocks, refused)


def repair(history: Sequence[JsonDict], *, clean: bool = True) -> Repaired:
    """Mend each message in place of itself (see the module docstring). `clean=False` skips
    the text, for a history whose every string was cleaned on its way in."""
    messages = [clean_json(dict(m)) if clean else m for m in history]
    changes: list[str] = []
    taken: set[str] = set()
    uses: list[JsonDict] = []
    renamed: dict[str, str] = {}
    for index, message in enumerate(messages):
        content = _blocks(message.get("content"))
        if message.get("role") == "assistant":
            mended, renamed = _unique_ids(content, taken)
            uses = [block for block in mended if block.get("type") == "tool_use"]
            if renamed:
                changes.append(f"messages.{index}: tool_use ids replaced")
        else:
            mended = _answered(uses, content, renamed)
            if mended != content:
                changes.append(f"messages.{index}: tool results mended")
            uses, renamed = [], {}
        if mended != content:
            messages[index] = {**message, "content": mended}
    return Repaired(messages, changes)


def repair_stored(stored: StoredConversation) -> StoredConversation:
    """A conversation as loaded, mended (see `repair`)."""
    repaired = repair(stored.history)
    if repaired.changes:
        log.warning("stored_history_repaired", session_id=stored.id, changes=repaired.changes)
    return dataclasses.replace(stored, history=repaired.messages)


def for_claude(history: Sequence[JsonDict]) -> Repaired:
    """The history to send: `repair`, after merging what does not alternate, and with any
    round still open at the end closed."""
    messages, changes = _alternating(history)
    repaired = repair(messages, clean=False)  # text was cleaned where it came in
    messages, changes = repaired.messages, changes + repaired.changes
    last = messages[-1] if messages else None
    if last is not None and last.get("role") == "assistant":
        open_uses = [b for b in _blocks(last.get("content")) if b.get("type") == "tool_use"]
        if open_uses:
            messages = [*messages, {"role": "user", "content": _answered(open_uses, [], {})}]
            changes.append("an unanswered round at the end was closed")
    return Repaired(messages, changes)


def unanswered_result(tool_use_id: str, text: str = UNANSWERED_TEXT) -> JsonDict:
    return {
        "type": "tool_result",
        "tool_use_id": tool_use_id,
        "content": [{"type": "text", "text": text}],
        "is_error": True,
    }


def open_tool_uses(history: Sequence[JsonDict]) -> list[JsonDict]:
    """The tool_use blocks of a last assistant message, which nothing has answered yet."""
    if not history or history[-1].get("role") != "assistant":
        return []
    return [b for b in _blocks(history[-1].get("content")) if b.get("type") == "tool_use"]


# ── tool_use ids ─────────────────────────────────────────────────────────────────────────────
def _tool_use_ids(history: Sequence[JsonDict]) -> set[str]:
    ids: set[str] = set()
    for message in history:
        if message.get("role") == "assistant":
            for block in _blocks(message.get("content")):
                if block.get("type") == "tool_use" and isinstance(block.get("id"), str):
                    ids.add(block["id"])
    return ids


def _identified(block: JsonDict, taken: set[str]) -> tuple[JsonDict, str | None]:
    """The block with a unique, well-formed id and an object input; the id it replaced, if
    it had to be replaced. `taken` gains the id."""
    tool_input: object = block.get("input")
    if not isinstance(tool_input, dict):
        block = {**block, "input": {}}
    if not isinstance(block.get("name"), str):
        block = {**block, "name": ""}
    original = block.get("id")
    if isinstance(original, str) and _TOOL_USE_ID.fullmatch(original) and original not in taken:
        taken.add(original)
        return block, None
    shown = original if isinstance(original, str) else repr(original)
    base = _UNSAFE_ID_CHARS.sub("_", shown)[:100] or "toolu"
    number = 2
    while f"{base}_{number}" in taken:
        number += 1
    fresh = f"{base}_{number}"
    taken.add(fresh)
    return {**block, "id": fresh}, shown


def too_deep(value: object) -> bool:
    """More than MAX_INPUT_DEPTH objects and arrays inside one another."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(cast(JsonDict, item).values())
        elif isinstance(item, list):
            children = cast(list[object], item)
        else:
            continue
        if level > MAX_INPUT_DEPTH:
            return True
        stack.extend((child, level + 1) for child in children)
    return False


def _renamed_text(original: str, taken: set[str]) -> str:
    why = "repeated the id of another tool call" if original in taken else "had an unusable id"
    return (
        f"[invalid_tool_use_id] This call {why} ({original[:100]!r}), so it did not run; "
        "call the tool again if it is still needed."
    )


def _unique_ids(content: list[JsonDict], taken: set[str]) -> tuple[list[JsonDict], dict[str, str]]:
    """Content with unique ids; maps a replaced id to its new one (first replacement only)."""
    mended: list[JsonDict] = []
    renamed: dict[str, str] = {}
    for block in content:
        if block.get("type") == "tool_use":
            block, original = _identified(block, taken)
            if original is not None:
                renamed.setdefault(original, block["id"])
        mended.append(block)
    return mended, renamed


# ── tool results ─────────────────────────────────────────────────────────────────────────────
def _answered(
    uses: list[JsonDict], content: list[JsonDict], renamed: dict[str, str]
) -> list[JsonDict]:
    """A user message's content: one result per use, in order, then everything else."""
    if not uses and not any(block.get("type") == "tool_result" for block in content):
        return content
    found: dict[str, JsonDict] = {}
    others: list[JsonDict] = []
    for block in content:
        if block.get("type") != "tool_result":
            others.append(block)
            continue
        answered = block.get("tool_use_id")
        target = renamed.get(answered, answered) if isinstance(answered, str) else None
        if target is not None and target not in found:
            found[target] = block if target == answered else {**block, "tool_use_id": target}
    results = [found.get(use["id"]) or unanswered_result(use["id"]) for use in uses]
    mended = results + others
    if not mended:
        return [{"type": "text", "text": REMOVED_RESULTS_TEXT}]
    return mended


# ── structure ────────────────────────────────────────────────────────────────────────────────
def _alternating(history: Sequence[JsonDict]) -> tuple[list[JsonDict], list[str]]:
    """Empty messages and empty text blocks dropped, same-role neighbours merged, a person's
    message first."""
    messages: list[JsonDict] = []
    changes: list[str] = []
    for index, message in enumerate(history):
        content = _blocks(message.get("content"))
        kept = [b for b in content if not (b.get("type") == "text" and not b.get("text"))]
        if not kept:
            changes.append(f"messages.{index}: empty, left out")
            continue
        if kept != content or not isinstance(message.get("content"), list):
            message = {**message, "content": kept}
        if messages and messages[-1].get("role") == message.get("role"):
            changes.append(f"messages.{index}: merged into the one before")
            merged = _blocks(messages[-1].get("content")) + kept
            messages[-1] = {**messages[-1], "content": merged}
        else:
            messages.append(message)
    if messages and messages[0].get("role") != "user":
        changes.append("a person's message was put first")
        start = {"role": "user", "content": [{"type": "text", "text": CONVERSATION_START_TEXT}]}
        messages.insert(0, start)
    return messages, changes


def _blocks(content: object) -> list[JsonDict]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        return []
    items = cast(list[object], content)
    return [cast(JsonDict, block) for block in items if isinstance(block, dict)]
