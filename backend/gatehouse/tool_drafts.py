"""The calls Claude is still writing, shown to the person as they grow (`tool_input_delta`).

Each `input_json_delta` fragment is fed to the call's `PartialJson`; at most once per
`interval_s` (and once more when the reply's stream ends) the value so far is compared with
what was last sent and only the change goes out: a string field that grew is sent as its new
tail (`appended`), anything else that changed is sent whole. So a file of N characters costs
about N characters on the wire, however many frames carry it. A call's draft stops at
`max_chars` characters (`truncated: true`); the whole input comes with `tool_request`.

A draft is only a view: it is never validated, stored as a call or approved. The checks run
on the finished input, as before, and a call that fails them never gets a `tool_request`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog

from gatehouse import protocol
from gatehouse.partial_json import JsonDict, PartialJson
from gatehouse.sanitise import clean_json, clean_text

Emit = Callable[[protocol.ServerFrame], object]
log = structlog.get_logger(__name__)


@dataclass
class _Draft:
    tool_use_id: str
    name: str
    parsed: PartialJson = field(default_factory=PartialJson)
    shown: JsonDict = field(default_factory=lambda: dict[str, Any]())
    sent_at: float = -1e18
    sent_chars: int = 0
    unsent: bool = False
    closed: bool = False


class ToolDrafts:
    """The drafts of one streamed reply."""

    def __init__(
        self,
        emit: Emit,
        interval_s: float,
        max_chars: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._emit = emit
        self._interval_s = interval_s
        self._max_chars = max_chars
        self._clock = clock
        self._drafts: dict[str, _Draft] = {}

    def fragment(self, tool_use_id: str, name: str, text: str) -> None:
        """One `input_json_delta` of the call `tool_use_id`."""
        draft = self._drafts.get(tool_use_id)
        if draft is None:
            # Claude's text, shown as it comes: a lone surrogate would not even encode.
            draft = self._drafts[tool_use_id] = _Draft(clean_text(tool_use_id), clean_text(name))
        if draft.closed or not text:
            return
        draft.parsed.feed(text)
        draft.unsent = True
        if self._clock() - draft.sent_at >= self._interval_s:
            self._send(draft)

    def flush(self) -> None:
        """The stream ended: every draft shows all it received."""
        for draft in self._drafts.values():
            if draft.unsent and not draft.closed:
                self._send(draft)

    def shown(self, tool_use_id: str) -> bool:
        """True when the person was sent a draft of this call."""
        draft = self._drafts.get(tool_use_id)
        return draft is not None and draft.sent_chars > 0

    def _send(self, draft: _Draft) -> None:
        """Send the draft's change; a value no frame can carry (an integer past 64 bits, say)
        ends the draft, never the reply: the finished input is checked as ever."""
        try:
            self._send_change(draft)
        except (TypeError, ValueError) as exc:
            draft.closed = True
            log.warning("tool_draft_dropped", tool_use_id=draft.tool_use_id, error=str(exc))

    def _send_change(self, draft: _Draft) -> None:
        draft.unsent = False
        value = draft.parsed.value()
        if value is None:
            return
        partial, appended = _changes(draft.shown, value)
        if not partial:
            return
        size = len(orjson.dumps(partial, default=str))
        truncated = draft.sent_chars + size > self._max_chars
        if truncated:
            draft.closed = True
            partial, appended = {}, []
        draft.sent_at = self._clock()
        draft.sent_chars += max(size, 1)
        draft.shown = value
        data = protocol.ToolInputDeltaData(
            tool_use_id=draft.tool_use_id,
            name=draft.name,
            partial=clean_json(partial),
            appended=[clean_text(key) for key in appended] or None,
            truncated=True if truncated else None,
        )
        self._emit(protocol.ToolInputDelta(data=data))


def _changes(shown: JsonDict, value: JsonDict) -> tuple[JsonDict, list[str]]:
    """The fields of `value` that differ from `shown`, a grown string as its new tail."""
    partial: JsonDict = {}
    appended: list[str] = []
    for key, now in value.items():
        before = shown.get(key)
        if key in shown and now == before:
            continue
        if isinstance(now, str) and isinstance(before, str) and now.startswith(before):
            partial[key] = now[len(before) :]
            appended.append(key)
        else:
            partial[key] = now
    return partial, appended
