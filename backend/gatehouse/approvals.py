"""Pending tool approvals of one session.

An approval counts only for a call pending in the same session, and only once: a foreign,
unknown or repeated id finds nothing here and runs nothing. Deadlines are wall-clock times so
that an approval stored before a restart keeps its original deadline after it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Literal

from gatehouse import metrics

Decision = Literal["approved", "denied", "timeout"]


@dataclass
class _Pending:
    future: asyncio.Future[bool]
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

    def decide(self, tool_use_id: str, approved: bool) -> bool:
        """Record the person's answer; False when no such call is waiting in this session."""
        pending = self._pending.get(tool_use_id)
        if pending is None or pending.future.done():
            return False
        pending.future.set_result(approved)
        return True

    async def wait(self, tool_use_id: str) -> Decision:
        """The decision for an asked call; no answer before the deadline counts as a denial."""
        pending = self._pending[tool_use_id]
        try:
            remaining = max(pending.expires_at - time.time(), 0)
            approved = await asyncio.wait_for(asyncio.shield(pending.future), remaining)
            decision: Decision = "approved" if approved else "denied"
        except TimeoutError:
            decision = "timeout"
        finally:
            self._pending.pop(tool_use_id, None)
        metrics.TOOL_APPROVALS_TOTAL.labels(decision=decision).inc()
        metrics.TOOL_APPROVAL_LATENCY.observe(time.time() - pending.asked_at)
        return decision

    def clear(self) -> None:
        """Forget every open decision (the turn that asked is over)."""
        for pending in self._pending.values():
            pending.future.cancel()
        self._pending.clear()
