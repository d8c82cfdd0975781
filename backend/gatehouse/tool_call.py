"""One tool call Claude asked for, and the one status it moves through.

    requested → invalid                      (screened out: never shown, never run)
    requested → pending → approved → running → done | failed
                        → denied | expired   (the person said no, or the deadline passed)
    any open status → interrupted            (a stop, a restart, or a turn that ended early)

The same names are stored (`tool_calls.status`), used by the turn, and are what the wire may
carry later. `decided_by` records who or what moved a call to its final status, so "expired
at its deadline" and "stopped by the person" stay distinguishable after the merge of the
older names (migration 0003). What Claude is told is the stored `tool_result`, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

JsonDict = dict[str, Any]


class ToolCallStatus(StrEnum):
    REQUESTED = "requested"
    INVALID = "invalid"
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class DecidedBy(StrEnum):
    """Who or what gave a call its final status."""

    SCREENING = "screening"  # invalid input, a path outside the workspace, an absent tool
    PERSON = "person"  # approved or denied
    RULE = "rule"  # a rule allowed or denied it without asking (tool_finished names it)
    DEADLINE = "deadline"  # TOOL_APPROVAL_TIMEOUT_S passed, live or during a restart
    TOOL = "tool"  # the tool ran: done or failed
    STOP = "stop"  # the person pressed Stop
    RESTART = "restart"  # the server stopped while the call was approved or running
    SERVER = "server"  # Gatehouse failed, or the turn ended before the call was decided


# A stored call in one of these has a turn to finish after a restart.
OPEN = frozenset({ToolCallStatus.PENDING, ToolCallStatus.APPROVED, ToolCallStatus.RUNNING})
FINAL = frozenset(
    {
        ToolCallStatus.INVALID,
        ToolCallStatus.DENIED,
        ToolCallStatus.EXPIRED,
        ToolCallStatus.DONE,
        ToolCallStatus.FAILED,
        ToolCallStatus.INTERRUPTED,
    }
)


@dataclass
class ToolCall:
    """A call of the current round: Claude's tool_use block, its status and, once final, the
    tool_result Claude gets."""

    use: JsonDict
    status: ToolCallStatus = ToolCallStatus.REQUESTED
    result: JsonDict | None = None
    decided_by: DecidedBy | None = None
    rule_id: str | None = None  # the rule that decided it, when one did
    edited_input: JsonDict | None = None  # what the person approved instead of Claude's input

    @property
    def id(self) -> str:
        return self.use["id"]

    @property
    def run_input(self) -> JsonDict:
        return self.edited_input if self.edited_input is not None else self.use["input"]

    @property
    def settled(self) -> bool:
        return self.status in FINAL and self.result is not None

    def settle(self, status: ToolCallStatus, result: JsonDict, decided_by: DecidedBy) -> None:
        self.status, self.result, self.decided_by = status, result, decided_by
