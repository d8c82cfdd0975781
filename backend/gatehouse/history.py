"""One named converter between message layers: stored Anthropic messages → UI history.

The UI shows one bubble per person's message and one per reply; a reply that went through
tool calls spans several assistant messages in Claude's history and becomes one bubble here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

JsonDict = dict[str, Any]


def ui_messages(history: Sequence[JsonDict], stopped: Sequence[bool]) -> list[JsonDict]:
    bubbles: list[JsonDict] = []
    for index, message in enumerate(history):
        text = _text(message["content"])
        was_stopped = index < len(stopped) and stopped[index]
        if message["role"] == "user":
            if text:  # a turn of tool results only is not something the person said
                bubbles.append({"role": "user", "text": text, "stopped": False})
            continue
        if bubbles and bubbles[-1]["role"] == "assistant":
            bubbles[-1]["text"] += text
            bubbles[-1]["stopped"] = bubbles[-1]["stopped"] or was_stopped
        else:
            bubbles.append({"role": "assistant", "text": text, "stopped": was_stopped})
    return bubbles


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n\n".join(b["text"] for b in content if b.get("type") == "text" and b.get("text"))
