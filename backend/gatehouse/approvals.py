"""Pending tool approvals of one session.

An approval counts only for a call pending in the same session, and only once: a foreign,
unknown or repeated id finds nothing here and runs nothing. Deadlines are wall-clock times so
that an approval stored before a restart keeps its original deadline after it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Literal

from gatehouse import metrics

Decision = Literal["approved", "denied", "timeout"]
JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """How a call was decided: by the person (with a reason or an edited input), or a rule."""

    approved: bool
    rule_id: str | None = None  # a rule decided it while it waited
    reason: str | None = None  # the person's reason for a denial
    edited_input: JsonDict | None = None  # the input the person approved instead


@dataclass(frozen=True)
class Refusal:
    """Why an answer was not taken (an `error` frame tells the person; nothing ran)."""

    code: str  # unknown_tool_call | invalid_edit | invalid_rule
    errors: list[str] | None = None


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    answer: Answer | None  # None at the deadline
    latency_s: float


@dataclass
class _Pending:
    future: asyncio.Future[Answer]
    expires_at: float
    asked_at: float


class Approvals:
    def __init__(self) -> None:
        self._pending: dict[str, _Pending] = {}

    def ask(self, tool_use_id: str, expires_at: float) -> None:
        """Open a decision for this call; the person answers with `decide`."""
        future = asyncio.get_running_loop().create_future()
        self._pending[tool_use_id] = _Pending(future, expires_at, time.time())

    def is_pending(self, tool_use_id: str) -> bool:
        return tool_use_id in self._pending

    @property
    def waiting(self) -> bool:
        return bool(self._pending)

    def waiting_ids(self) -> list[str]:
        return [key for key, pending in self._pending.items() if not pending.future.done()]

    def decide(self, tool_use_id: str, answer: Answer) -> bool:
        """Record the answer; False when no such call is waiting in this session."""
        pending = self._pending.get(tool_use_id)
        if pending is None or pending.future.done():
            return False
        pending.future.set_result(answer)
        return True

    async def wait(self, tool_use_id: str) -> Outcome:
        """The decision for an asked call; no answer before the deadline counts as a denial."""
        pending = self._pending[tool_use_id]
        answer: Answer | None = None
        try:
            remaining = max(pending.expires_at - time.time(), 0)
            given = await asyncio.wait_for(asyncio.shield(pending.future), remaining)
            answer = given
            decision: Decision = "approved" if given.approved else "denied"
        except TimeoutError:
            decision = "timeout"
        finally:
            self._pending.pop(tool_use_id, None)
        latency = time.time() - pending.asked_at
        metrics.TOOL_APPROVALS_TOTAL.labels(decision=decision).inc()
        metrics.TOOL_APPROVAL_LATENCY.observe(latency)
        return Outcome(decision, answer, latency)

    def clear(self) -> None:
        """Forget every open decision (the turn that asked is over)."""
        for pending in self._pending.values():
            pending.future.cancel()
        self._pending.clear()
