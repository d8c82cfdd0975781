"""A conversation: its history, the frames it sends, its one running turn, its approvals.

A session numbers every frame it emits (`seq`) and hands it to every attached outbox, so the
turn never waits on a socket. One reply runs at a time: a message that arrives during a reply
is refused with `status_update {busy: true}` and a `busy` error (see README, "One reply at a
time").
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from pydantic import BaseModel

from gatehouse import protocol
from gatehouse.approvals import Approvals
from gatehouse.errors import GatehouseError, error_frame
from gatehouse.settings import Locale

JsonDict = dict[str, Any]


class Outbox(Protocol):
    def push(self, frame: str) -> None: ...


TurnRunner = Callable[["Session", str], Coroutine[Any, Any, None]]


class Session:
    def __init__(self, locale: Locale, approval_timeout_s: float) -> None:
        self.id = uuid.uuid4().hex
        self.locale: Locale = locale
        self.history: list[JsonDict] = []
        self.approvals = Approvals(approval_timeout_s)
        self.busy_signalled = False
        self._seq = 0
        self._outboxes: list[Outbox] = []
        self._turn: asyncio.Task[None] | None = None
        self.cancel_requested = False

    # ── frames ──────────────────────────────────────────────────────────────────────────────
    def attach(self, outbox: Outbox) -> None:
        self._outboxes.append(outbox)

    def detach(self, outbox: Outbox) -> None:
        if outbox in self._outboxes:
            self._outboxes.remove(outbox)

    def emit(self, frame: BaseModel) -> None:
        self._seq += 1
        text = protocol.encode(frame.model_copy(update={"seq": self._seq}))
        for outbox in self._outboxes:
            outbox.push(text)

    def emit_error(self, err: GatehouseError, **detail: Any) -> None:
        self.emit(error_frame(err, self.locale, **detail))

    def emit_status(self, **fields: Any) -> None:
        self.emit(protocol.StatusUpdate(data=protocol.StatusUpdateData(**fields)))

    # ── turns ───────────────────────────────────────────────────────────────────────────────
    @property
    def replying(self) -> bool:
        return self._turn is not None and not self._turn.done()

    def start_turn(self, run: TurnRunner, text: str) -> bool:
        """Start a reply to `text`; False (and a busy signal) when a reply is already running."""
        if self.replying:
            self.busy_signalled = True
            self.emit_status(busy=True)
            self.emit_error(GatehouseError("busy"))
            return False
        self.cancel_requested = False
        self._turn = asyncio.create_task(run(self, text), name=f"turn:{self.id}")
        return True

    def cancel_turn(self) -> bool:
        """Stop the running reply (and its tool); the partial text is kept."""
        if not self.replying or self._turn is None:
            return False
        self.cancel_requested = True
        self._turn.cancel()
        return True

    async def close(self) -> None:
        """End the session: stop its reply without waiting on any socket."""
        turn = self._turn
        self._outboxes.clear()
        if turn is not None and not turn.done():
            turn.cancel()
            await asyncio.gather(turn, return_exceptions=True)
        self.approvals.clear()

    def append_user_text(self, text: str) -> None:
        """Add the person's text; after a failed turn the last message may already be theirs."""
        block = {"type": "text", "text": text}
        if self.history and self.history[-1]["role"] == "user":
            last = self.history[-1]
            content = last["content"]
            if isinstance(content, str):
                content = [{"type": "text", "text": content}]
            last["content"] = [*content, block]
        else:
            self.history.append({"role": "user", "content": [block]})
