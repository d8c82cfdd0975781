"""Pending tool approvals of one session.

An approval counts only for a call pending in the same session, and only once: a foreign,
unknown or repeated id finds nothing here and runs nothing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Literal

from gatehouse import metrics

Decision = Literal["approved", "denied", "timeout"]


@dataclass
class _Pending:
    future: asyncio.Future[bool]
    asked_at: float = field(default_factory=time.monotonic)


class Approvals:
    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._pending: dict[str, _Pending] = {}

    def ask(self, tool_use_id: str) -> None:
        """Open a decision for this call; the person answers with `decide`."""
        loop = asyncio.get_running_loop()
        self._pending[tool_use_id] = _Pending(loop.create_future())

    def pending_ids(self) -> list[str]:
        return list(self._pending)

    def decide(self, tool_use_id: str, approved: bool) -> bool:
        """Record the person's answer; False when no such call is waiting in this session."""
        pending = self._pending.get(tool_use_id)
        if pending is None or pending.future.done():
            return False
        pending.future.set_result(approved)
        return True

    async def wait(self, tool_use_id: str) -> Decision:
        """The decision for an asked call; no answer within the timeout counts as a denial."""
        pending = self._pending[tool_use_id]
        remaining = self._timeout_s - (time.monotonic() - pending.asked_at)
        try:
            approved = await asyncio.wait_for(asyncio.shield(pending.future), max(remaining, 0))
            decision: Decision = "approved" if approved else "denied"
        except TimeoutError:
            decision = "timeout"
        finally:
            self._pending.pop(tool_use_id, None)
        metrics.TOOL_APPROVALS_TOTAL.labels(decision=decision).inc()
        metrics.TOOL_APPROVAL_LATENCY.observe(time.monotonic() - pending.asked_at)
        return decision

    def clear(self) -> None:
        """Forget every open decision (the turn that asked is over)."""
        for pending in self._pending.values():
            pending.future.cancel()
        self._pending.clear()
