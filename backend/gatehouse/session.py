"""A conversation: its history, frame numbering, fan-out to its sockets, and replay.

A session numbers every frame it emits (`seq`), keeps the recent ones in memory, logs them to
the store, and hands them to every attached outbox, so the turn never waits on a socket and a
client that comes back gets exactly what it missed (`attach_resumed`).

A new session is stored only when its first message comes: until then its frames stay in
memory, so a connection that never says anything costs the database nothing.

One reply runs at a time: the running turn (`gatehouse.turn.Turn`) owns everything about it,
including the busy signal a message sent meanwhile gets (see README, "One reply at a time").
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from gatehouse import protocol
from gatehouse.approvals import Refusal
from gatehouse.errors import GatehouseError, error_frame
from gatehouse.history import ui_messages
from gatehouse.protocol import ToolApprovalData
from gatehouse.settings import Locale
from gatehouse.store import Store, StoredConversation

JsonDict = dict[str, Any]
RECENT_FRAMES = 4096  # replayed from memory; older frames come from the store
LAST_SEQ_MAX_DIGITS = 19  # every 64-bit seq fits; longer is refused before int() parses it


class Outbox(Protocol):
    def push(self, frame: str) -> None: ...

    def close(self, code: int) -> None: ...


class TurnHandle(Protocol):
    """What a conversation sees of its running turn (`gatehouse.turn.Turn`)."""

    def start(self) -> asyncio.Task[None]: ...

    @property
    def running(self) -> bool: ...

    @property
    def awaiting_approval(self) -> bool: ...

    def open_requests(self) -> list[str]: ...

    def decide(self, answer: ToolApprovalData, /) -> Refusal | None: ...

    def refuse_busy(self) -> None: ...

    def cancel(self) -> bool: ...

    async def close(self) -> None: ...


@dataclass
class _TurnStart:
    seq: int  # the last seq before the turn's first frame
    messages: int  # history length once the person's message is in


class Session:
    def __init__(
        self,
        store: Store,
        locale: Locale,
        *,
        stored: StoredConversation | None = None,
    ) -> None:
        self.id = stored.id if stored else uuid.uuid4().hex
        self.locale: Locale = locale
        self.history: list[JsonDict] = list(stored.history) if stored else []
        self.stopped: list[bool] = list(stored.stopped) if stored else []
        self.cut = False  # the last reply stopped at the token limit: `continue` goes on with it
        self.on_idle: Callable[[Session], None] = lambda _session: None
        self._store = store
        self._seq = stored.last_seq if stored else 0
        self._compacted_seq = stored.compacted_seq if stored else 0
        self.stored = stored is not None  # the conversation row exists; its frames are logged
        self._recent: deque[tuple[int, str]] = deque(maxlen=RECENT_FRAMES)
        self._outboxes: list[Outbox] = []
        self._turn: TurnHandle | None = None
        self._error_flagged = False
        self._turn_start = _TurnStart(self._seq, len(self.history))

    # ── frames ──────────────────────────────────────────────────────────────────────────────
    @property
    def attached(self) -> int:
        return len(self._outboxes)

    def attach(self, outbox: Outbox) -> None:
        self._outboxes.append(outbox)

    def detach(self, outbox: Outbox) -> None:
        if outbox in self._outboxes:
            self._outboxes.remove(outbox)

    def emit(self, frame: protocol.ServerFrame) -> str:
        self._seq += 1
        return self._send(protocol.encode_numbered(frame, self._seq))

    def emit_text(self, text: str) -> None:
        """One `ai_chunk`: the frame sent per text delta, so it skips the pydantic model."""
        self._seq += 1
        self._send(protocol.encode_ai_chunk(text, self._seq))

    def _send(self, frame: str) -> str:
        self._recent.append((self._seq, frame))
        if self.stored:
            self._store.log_frame(self.id, self._seq, frame)
        for outbox in self._outboxes:
            outbox.push(frame)
        return frame

    def emit_error(self, err: GatehouseError, **detail: Any) -> None:
        self.emit(error_frame(err, self.locale, **detail))

    def emit_status(self, **fields: Any) -> None:
        self.emit(protocol.StatusUpdate(data=protocol.StatusUpdateData(**fields)))

    def flag_error(self) -> None:
        """`status_update {error: true}`, sent alongside the error of a failed reply or tool."""
        self._error_flagged = True
        self.emit_status(error=True)

    def clear_error(self) -> None:
        """A new reply starts: `error: false`, only when the last one had flagged an error."""
        if self._error_flagged:
            self._error_flagged = False
            self.emit_status(error=False)

    async def attach_resumed(self, outbox: Outbox, last_seq: str | None) -> None:
        """Send what the client missed, then attach it live, with no gap and no repeat.

        With `last_seq` the frames after it are replayed; without it (or when those frames were
        compacted away) the client gets the history before the current turn, then the current
        turn's frames. A `last_seq` that is not a number this session has sent gets an
        `invalid_last_seq` error and the history: a client never moves the server's numbering.
        """
        claimed = read_last_seq(last_seq)
        rejected = last_seq is not None and (claimed is None or claimed > self._seq)
        after = None if rejected or claimed is None or claimed < self._compacted_seq else claimed
        since = self._turn_start.seq if after is None else after
        calls = await self._store.tool_calls(self.id) if after is None and self.stored else []
        older = await self._frames_from_store(since)
        # From here to attach() nothing awaits, so no frame can slip between replay and live.
        covered = older[-1][0] if older else since
        replay = [text for _, text in older]
        replay += [text for seq, text in self._recent if seq > covered]
        # Per-connection frames, not logged: their seq is where the client stands after them.
        created = protocol.SessionCreatedData(session_id=self.id, resumed=True, locale=self.locale)
        outbox.push(protocol.encode(protocol.SessionCreated(data=created, seq=since)))
        if rejected:
            refusal = error_frame(GatehouseError("invalid_last_seq"), self.locale)
            outbox.push(protocol.encode(refusal.model_copy(update={"seq": since})))
        if after is None:
            shown = self.history[: self._turn_start.messages]
            messages = ui_messages(shown, self.stopped, calls)
            history = protocol.HistoryData.model_validate({"messages": messages})
            outbox.push(protocol.encode(protocol.History(data=history, seq=since)))
        for text in replay:
            outbox.push(text)
        for text in self._turn.open_requests() if self._turn else []:
            if text not in replay:
                outbox.push(text)
        self.attach(outbox)

    async def _frames_from_store(self, since: int) -> list[tuple[int, str]]:
        if self._recent and self._recent[0][0] <= since + 1:
            return []
        if not self._recent and since >= self._seq:
            return []
        return await self._store.frames_after(self.id, since)

    # ── history ─────────────────────────────────────────────────────────────────────────────
    async def add_message(self, message: JsonDict, *, stopped: bool = False) -> None:
        self._append(message, stopped)
        await self._store.save_message(self.id, len(self.history) - 1, message, stopped=stopped)

    async def extend_last_message(self, content: list[JsonDict], *, stopped: bool = False) -> None:
        """Claude continued the last (assistant) message: a paused or cut reply. Text that
        goes on from text joins its block, as Claude wrote them as one."""
        last = self.history[-1]
        blocks: list[JsonDict] = list(last["content"])
        more = list(content)
        if blocks and more and blocks[-1].get("type") == "text" and more[0].get("type") == "text":
            blocks[-1] = {**blocks[-1], "text": blocks[-1]["text"] + more.pop(0)["text"]}
        last["content"] = blocks + more
        self.stopped[-1] = self.stopped[-1] or stopped
        position = len(self.history) - 1
        await self._store.save_message(self.id, position, last, stopped=self.stopped[-1])

    def _append(self, message: JsonDict, stopped: bool) -> None:
        self.history.append(message)
        self.stopped.append(stopped)

    def add_user_text(self, text: str) -> asyncio.Task[None]:
        """Add the person's text now; return its store write for the turn to await later, so
        the request to Claude need not wait for the commit. After a failed turn the last
        message may already be theirs."""
        block = {"type": "text", "text": text}
        if self.history and self.history[-1]["role"] == "user":
            self.history[-1]["content"] = [*self.history[-1]["content"], block]
        else:
            self._append({"role": "user", "content": [block]}, stopped=False)
        self._turn_start.messages = len(self.history)
        position = len(self.history) - 1
        return asyncio.ensure_future(self._save_user_message(position, self.history[-1]))

    async def _save_user_message(self, position: int, message: JsonDict) -> None:
        if not self.stored:  # the first message: the conversation begins to exist now
            await self._store.create_conversation(self.id, self.locale)
            self.stored = True
            for seq, frame in self._recent:  # what this session sent before, in order
                self._store.log_frame(self.id, seq, frame)
        await self._store.save_message(self.id, position, message)

    # ── turns ───────────────────────────────────────────────────────────────────────────────
    @property
    def replying(self) -> bool:
        return self._turn is not None and self._turn.running

    @property
    def awaiting_approval(self) -> bool:
        return self.replying and self._turn is not None and self._turn.awaiting_approval

    @property
    def seq(self) -> int:
        return self._seq

    @property
    def store(self) -> Store:
        return self._store

    async def compact(self) -> None:
        """Drop the logged frames of ended turns; call only with no turn running."""
        if self.stored and self._seq > self._compacted_seq:
            await self._store.compact_frames(self.id, self._seq)
            self._compacted_seq = self._seq

    def start_turn(self, turn: TurnHandle) -> bool:
        """Start `turn`; False when one is running already (that one tells the person)."""
        if self._turn is not None and self._turn.running:
            self._turn.refuse_busy()
            return False
        self._turn_start = _TurnStart(self._seq, len(self.history))
        self._turn = turn
        turn.start().add_done_callback(lambda _task: self.on_idle(self))
        return True

    def decide(self, answer: ToolApprovalData) -> Refusal | None:
        """The person's answer; a refusal when no such call waits here or the answer is bad."""
        if self._turn is None:
            return Refusal("unknown_tool_call")
        return self._turn.decide(answer)

    def cancel_turn(self) -> bool:
        """Stop the running reply (and its tool); the partial text is kept."""
        return self._turn is not None and self._turn.cancel()

    async def close(self, code: int | None = None) -> None:
        """End the live session: stop its turn, and close its sockets with `code` if given."""
        outboxes, self._outboxes = self._outboxes, []
        if code is not None:
            for outbox in outboxes:
                outbox.close(code)
        if self._turn is not None:
            await self._turn.close()


def read_last_seq(raw: str | None) -> int | None:
    """A client's `last_seq`: ASCII digits only (`str.isdigit` takes '²'), bounded in length."""
    if raw is None or not 0 < len(raw) <= LAST_SEQ_MAX_DIGITS:
        return None
    if not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


def new_session_frame(session: Session) -> protocol.SessionCreated:
    data = protocol.SessionCreatedData(session_id=session.id, locale=session.locale)
    return protocol.SessionCreated(data=data)
