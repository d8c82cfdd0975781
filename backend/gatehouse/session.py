"""A conversation: its history, frame numbering, fan-out to its sockets, and replay.

A session numbers every frame it emits (`seq`), keeps the recent ones in memory, logs them to
the store, and hands them to every attached outbox, so the turn never waits on a socket and a
client that comes back gets exactly what it missed (`attach_resumed`).

A new session is stored only when its first message comes: until then its frames stay in
memory, so a connection that never says anything costs the database nothing.

One reply runs at a time: the running turn (`gatehouse.turn.Turn`) owns everything about it,
including the busy signal a message sent meanwhile gets (see README, "One reply at a time").

With several workers (`gatehouse.shared_sessions`) a stored conversation is live on each worker
that has a socket of it, and one of them owns it at a time: the owner numbers, logs and
publishes its frames (`publish`); the others are `following`: they `mirror` the owner's frames
to their sockets, and what they say themselves (a refusal, a busy signal) goes to their own
sockets only, at the current seq, without moving the numbering.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from gatehouse import protocol
from gatehouse.approvals import Refusal
from gatehouse.branches import Tree
from gatehouse.conversation_settings import Choices, settings_data
from gatehouse.errors import GatehouseError, error_frame
from gatehouse.history import ui_messages
from gatehouse.llm import ReplyOptions
from gatehouse.protocol import ToolApprovalData
from gatehouse.sanitise import clean_text
from gatehouse.settings import Locale
from gatehouse.store import Store, StoredConversation, StoredToolCall
from gatehouse.usage import Usage, total

JsonDict = dict[str, Any]
_Mark = TypeVar("_Mark")
FOLLOWER_CATCH_UP_S = 2.0  # a resume on a follower waits this long for the owner's frames
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


# The rule that decided each call a rule decided, by call id (Policy.history_rules).
RuleCards = Callable[[str], Awaitable[Mapping[str, Mapping[str, str | None]]]]


class Session:
    # Slots: an idle socket's session costs its attributes, not a dict of them as well.
    __slots__ = (
        "_compacted_seq",
        "_error_flagged",
        "_outboxes",
        "_recent",
        "_rule_cards",
        "_seq",
        "_seq_waiters",
        "_store",
        "_turn",
        "_turn_start",
        "_unstored",
        "attachments",
        "choices",
        "defaults",
        "following",
        "hidden",
        "history",
        "id",
        "locale",
        "on_behind",
        "on_idle",
        "on_turn_end",
        "on_turn_start",
        "positions",
        "publish",
        "stop_reasons",
        "stopped",
        "stored",
        "tree",
        "usage",
        "writable",
    )

    def __init__(
        self,
        store: Store,
        locale: Locale,
        *,
        defaults: ReplyOptions,
        stored: StoredConversation | None = None,
        rule_cards: RuleCards | None = None,
    ) -> None:
        self.id = stored.id if stored else uuid.uuid4().hex
        self.locale: Locale = locale
        self.defaults = defaults  # ANTHROPIC_MODEL and THINKING
        self.choices = stored.choices if stored else Choices()
        self.history: list[JsonDict] = []
        self.stopped: list[bool] = []
        # Beside each message: its usage (a reply's), its attachments' names (the person's),
        # Claude's max_tokens or refusal, whether Gatehouse wrote it for Claude only, and its
        # stored position. The history is the active branch; the tree holds every branch.
        self.usage: list[Usage | None] = []
        self.attachments: list[list[JsonDict]] = []
        self.stop_reasons: list[str | None] = []
        self.hidden: list[bool] = []
        self.positions: list[int] = []
        self.tree = Tree()
        # Positions appended here and not yet saved: a few at most (a list: an idle session's
        # is empty, and an empty list costs a quarter of an empty set).
        self._unstored: list[int] = []
        if stored is not None:
            self._take_branch(stored)
        self.on_idle: Callable[[Session], None] = lambda _session: None
        # Several workers (shared_sessions): told when a turn starts and ends here; the
        # owner's frames go to `publish`; a follower mirrors another worker's frames.
        self.on_turn_start: Callable[[Session], None] = lambda _session: None
        self.on_turn_end: Callable[[Session], None] = lambda _session: None
        self.on_behind: Callable[[Session, int], None] = lambda _session, _seq: None
        self.publish: Callable[[str, int, str], None] | None = None
        self.following = False
        self.writable = True  # False once another worker took the conversation over
        self._seq_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._store = store
        self._rule_cards = rule_cards
        self._seq = stored.last_seq if stored else 0
        self._compacted_seq = stored.compacted_seq if stored else 0
        self.stored = stored is not None  # the conversation row exists; its frames are logged
        # The last RECENT_FRAMES frames at least (a list trimmed now and then, not a bounded
        # deque: an idle session holds one frame, and a deque's first block is 760 bytes).
        self._recent: list[tuple[int, str]] = []
        self._outboxes: list[Outbox] = []
        self._turn: TurnHandle | None = None
        self._error_flagged = False
        self._turn_start = _TurnStart(self._seq, len(self.history))

    def _take_branch(self, stored: StoredConversation) -> None:
        self.history = list(stored.history)
        self.stopped = list(stored.stopped)
        self.usage = [Usage.from_json(u) if u else None for u in stored.usage]
        self.attachments = list(stored.attachments)
        count = len(self.history)
        self.stop_reasons = _padded(stored.stop_reasons, None, count)
        self.hidden = _padded(stored.hidden, False, count)
        self.positions = list(stored.positions)
        self.tree = stored.tree
        if len(self.positions) != count:  # not read from the store: one branch, in order
            self.positions = list(range(count))
            self.tree = Tree()
            for position in self.positions:
                self.tree.add(position, position - 1 if position else None)

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
        if self.following and self.stored:
            return self._send_here(protocol.encode_numbered(frame, self._seq))
        self._seq += 1
        return self._send(protocol.encode_numbered(frame, self._seq))

    def emit_text(self, text: str) -> None:
        """One `ai_chunk`: the frame sent per text delta, so it skips the pydantic model."""
        if self.following and self.stored:
            self._send_here(protocol.encode_ai_chunk(text, self._seq))
            return
        self._seq += 1
        self._send(protocol.encode_ai_chunk(text, self._seq))

    def _remember(self, seq: int, frame: str) -> None:
        recent = self._recent
        recent.append((seq, frame))
        if len(recent) > RECENT_FRAMES + RECENT_FRAMES // 4:
            del recent[: len(recent) - RECENT_FRAMES]

    def _send(self, frame: str) -> str:
        self._remember(self._seq, frame)
        if self.stored:
            self._store.log_frame(self.id, self._seq, frame)
            if self.publish is not None:
                self.publish(self.id, self._seq, frame)
        for outbox in self._outboxes:
            outbox.push(frame)
        return frame

    def _send_here(self, frame: str) -> str:
        """A follower's own frame: to its sockets only, numbered as the last frame it has."""
        for outbox in self._outboxes:
            outbox.push(frame)
        return frame

    def mirror(self, seq: int, frame: str) -> None:
        """A frame the owner (another worker) sent: to this worker's sockets, in its place."""
        self._seq = seq
        self._remember(seq, frame)
        for outbox in self._outboxes:
            outbox.push(frame)
        if self._seq_waiters:
            waiting, self._seq_waiters = self._seq_waiters, []
            for target, waiter in waiting:
                if seq >= target and not waiter.done():
                    waiter.set_result(None)
                elif not waiter.done():
                    self._seq_waiters.append((target, waiter))

    async def caught_up(self, seq: int, timeout_s: float) -> bool:
        """Wait (a follower) until the frames up to `seq` were mirrored; False on timeout."""
        if self._seq >= seq:
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq_waiters.append((seq, waiter))
        self.on_behind(self, seq)  # the frames may be in the store before they are streamed
        try:
            await asyncio.wait_for(waiter, timeout_s)
        except TimeoutError:
            return False
        return True

    def numbered_from(self, seq: int) -> None:
        """Frames go on after `seq` (the last of the conversation, whoever sent it)."""
        self._seq = max(self._seq, seq)

    def take_stored(self, stored: StoredConversation) -> None:
        """The conversation as stored (another worker changed it): its active branch, its
        settings, and the start of the next turn."""
        self._take_branch(stored)
        self.choices = stored.choices
        self._compacted_seq = max(self._compacted_seq, stored.compacted_seq)
        self.stored = True
        self._turn_start = _TurnStart(self._seq, len(self.history))

    def emit_thinking(self, text: str) -> None:
        self.emit(protocol.AiThinking(data=protocol.AiThinkingData(text=clean_text(text))))

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
        if self.following and claimed is not None and claimed > self._seq:
            await self.caught_up(claimed, FOLLOWER_CATCH_UP_S)  # the owner is ahead of us
        if self.following and self.stored and claimed is not None and claimed < self._seq:
            # Another worker may have compacted the frames this client missed (frame_janitor).
            self._compacted_seq = max(self._compacted_seq, await self._store.compacted_seq(self.id))
        rejected = last_seq is not None and (claimed is None or claimed > self._seq)
        after = None if rejected or claimed is None or claimed < self._compacted_seq else claimed
        since = self._turn_start.seq if after is None else after
        calls = await self._store.tool_calls(self.id) if after is None and self.stored else []
        rules = await self._rule_cards(self.id) if calls and self._rule_cards else None
        older = await self._frames_from_store(since)
        # From here to attach() nothing awaits, so no frame can slip between replay and live.
        covered = older[-1][0] if older else since
        replay = [text for _, text in older]
        replay += [text for seq, text in self._recent if seq > covered]
        # Per-connection frames, not logged: their seq is where the client stands after them.
        created = protocol.SessionCreatedData(
            session_id=self.id, resumed=True, locale=self.locale, settings=self.settings()
        )
        outbox.push(protocol.encode(protocol.SessionCreated(data=created, seq=since)))
        if rejected:
            refusal = error_frame(GatehouseError("invalid_last_seq"), self.locale)
            outbox.push(protocol.encode(refusal.model_copy(update={"seq": since})))
        if after is None:
            history = self.history_data(calls, rules, self._turn_start.messages)
            outbox.push(protocol.encode(protocol.History(data=history, seq=since)))
        for text in replay:
            outbox.push(text)
        for text in self._turn.open_requests() if self._turn else []:
            if text not in replay:
                outbox.push(text)
        self.attach(outbox)

    def history_data(
        self,
        calls: list[StoredToolCall],
        rules: Mapping[str, Mapping[str, str | None]] | None,
        length: int | None = None,
    ) -> protocol.HistoryData:
        """The active branch (its first `length` messages) as the UI shows it."""
        messages = ui_messages(
            self.history[:length],
            self.stopped,
            calls,
            self.usage,
            self.attachments,
            self.id,
            self.stop_reasons,
            self.hidden,
            rules,
            self.positions,
            self.tree,
        )
        return protocol.HistoryData.model_validate({"messages": messages})

    async def _frames_from_store(self, since: int) -> list[tuple[int, str]]:
        if self._recent and self._recent[0][0] <= since + 1:
            return []
        if not self._recent and since >= self._seq:
            return []
        return await self._store.frames_after(self.id, since)

    # ── settings ────────────────────────────────────────────────────────────────────────────
    @property
    def reply_options(self) -> ReplyOptions:
        """The model and thinking of the next reply."""
        return self.choices.applied(self.defaults)

    def settings(self) -> protocol.ConversationSettingsData:
        return settings_data(self.reply_options)

    async def configure(self, model: str | None, thinking: bool | None) -> None:
        """Apply a `configure` frame (already checked) to the next reply; stored first, then
        echoed to every socket of the conversation."""
        self.choices = self.choices.changed(model, thinking)
        if self.stored:
            await self._store.save_choices(self.id, self.choices)
        self.emit(protocol.ConversationSettings(data=self.settings()))

    # ── history ─────────────────────────────────────────────────────────────────────────────
    @property
    def cut(self) -> bool:
        """The last reply stopped at the token limit: `continue` goes on with it."""
        return (
            bool(self.history)
            and self.history[-1]["role"] == "assistant"
            and (self.stop_reasons[-1] == "max_tokens")
        )

    async def add_message(
        self,
        message: JsonDict,
        *,
        stopped: bool = False,
        usage: Usage | None = None,
        stop_reason: str | None = None,
        hidden: bool = False,
    ) -> None:
        self._append(message, stopped, stop_reason, hidden)
        self.usage[-1] = usage
        await self._save(len(self.history) - 1)

    async def _save(self, index: int) -> None:
        if not self.writable:  # another worker owns the conversation now
            return
        usage = self.usage[index]
        position = self.positions[index]
        parent = self.tree.parents[position]
        new = position in self._unstored  # its first save: the store need not look for it
        if new:
            self._unstored.remove(position)
        await self._store.save_message(
            self.id,
            position,
            self.history[index],
            stopped=self.stopped[index],
            usage=usage.to_json() if usage else None,
            attachments=self.attachments[index],
            stop_reason=self.stop_reasons[index],
            hidden=self.hidden[index],
            parent=parent,
            new=new,
            siblings=len(self.tree.children(parent)) > 1,
        )

    def reply_usage(self) -> Usage | None:
        """The usage of the latest reply: its assistant messages since the person spoke (a
        hidden turn asking Claude to go on is part of the reply)."""
        start = len(self.history)
        while start > 0 and (self.hidden[start - 1] or not said_by_person(self.history[start - 1])):
            start -= 1
        return total(self.usage[start:])

    async def extend_last_message(
        self,
        content: list[JsonDict],
        *,
        stopped: bool = False,
        usage: Usage | None = None,
        stop_reason: str | None = None,
    ) -> None:
        """Claude continued the last (assistant) message: a paused or cut reply. Text that
        goes on from text joins its block, as Claude wrote them as one; the message now ends
        the way its continuation did (`stop_reason`)."""
        last = self.history[-1]
        blocks: list[JsonDict] = list(last["content"])
        more = list(content)
        if blocks and more and blocks[-1].get("type") == "text" and more[0].get("type") == "text":
            blocks[-1] = {**blocks[-1], "text": blocks[-1]["text"] + more.pop(0)["text"]}
        last["content"] = blocks + more
        self.stopped[-1] = self.stopped[-1] or stopped
        self.usage[-1] = total([self.usage[-1], usage])
        self.stop_reasons[-1] = stop_reason
        await self._save(len(self.history) - 1)

    def _append(
        self, message: JsonDict, stopped: bool, stop_reason: str | None = None, hidden: bool = False
    ) -> None:
        self.history.append(message)
        self.stopped.append(stopped)
        self.usage.append(None)
        self.attachments.append([])
        self.stop_reasons.append(stop_reason)
        self.hidden.append(hidden)
        position = self.tree.next_position()
        self.tree.add(position, self.positions[-1] if self.positions else None)
        self.positions.append(position)
        self._unstored.append(position)

    # ── branches (gatehouse.branching) ──────────────────────────────────────────────────────
    def rewind(self, length: int) -> None:
        """Keep only the first `length` messages of the active branch in memory; the rest
        stay stored, on a branch of their own once a new message takes their place."""
        for marks in (
            self.history,
            self.stopped,
            self.usage,
            self.attachments,
            self.stop_reasons,
            self.hidden,
            self.positions,
        ):
            del marks[length:]

    async def add_branch(self, message: JsonDict, attachments: list[JsonDict]) -> None:
        """A new message after the (rewound) active branch, stored before anything follows."""
        self._append(message, stopped=False)
        self.attachments[-1] = attachments
        await self._save_user_message(len(self.history) - 1)

    async def reload(self) -> None:
        """Read the active branch back from the store (after another branch was chosen)."""
        stored = await self._store.load_conversation(self.id)
        if stored is not None:
            self._take_branch(stored)

    async def emit_history(self) -> None:
        """The active branch to every socket: it replaces what they show. A client that
        comes back without `last_seq` is sent this history, then what follows."""
        calls = await self._store.tool_calls(self.id)
        rules = await self._rule_cards(self.id) if calls and self._rule_cards else None
        self.emit(protocol.History(data=self.history_data(calls, rules)))
        self._turn_start = _TurnStart(self._seq, len(self.history))

    def last_said(self) -> int | None:
        """The index of the person's last message on the active branch."""
        for index in range(len(self.history) - 1, -1, -1):
            if not self.hidden[index] and said_by_person(self.history[index]):
                return index
        return None

    def index_of(self, position: int) -> int | None:
        """Where the message stored at `position` is on the active branch, if it is."""
        try:
            return self.positions.index(position)
        except ValueError:
            return None

    def reply_ids(self) -> protocol.ReplyIds | None:
        """The ids of the person's last message and of the reply to it, for the client."""
        asked = self.last_said()
        if asked is None:
            return None
        replies = (
            self.positions[i]
            for i in range(asked + 1, len(self.history))
            if self.history[i]["role"] == "assistant"
        )
        reply = next(replies, None)
        point = self.tree.branch_point(reply) if reply is not None else None
        branch = (
            protocol.Branch(index=point.index, count=len(point.siblings), siblings=point.siblings)
            if point
            else None
        )
        return protocol.ReplyIds(message_id=self.positions[asked], reply_id=reply, branch=branch)

    def add_user_text(
        self,
        text: str,
        files: list[JsonDict] | None = None,
        names: list[JsonDict] | None = None,
    ) -> asyncio.Task[None]:
        """Add the person's text, after the content blocks of their attachments (`files`,
        named by `names`), now; return its store write for the turn to await later, so the
        request to Claude need not wait for the commit. After a failed turn the last message
        may already be theirs."""
        blocks = [*(files or []), *([{"type": "text", "text": text}] if text else [])]
        if self.history and self.history[-1]["role"] == "user" and not self.hidden[-1]:
            self.history[-1]["content"] = [*self.history[-1]["content"], *blocks]
        else:
            self._append({"role": "user", "content": blocks}, stopped=False)
        self.attachments[-1] = [*self.attachments[-1], *(names or [])]
        self._turn_start.messages = len(self.history)
        position = len(self.history) - 1
        return asyncio.ensure_future(self._save_user_message(position))

    async def _save_user_message(self, position: int) -> None:
        if not self.stored:  # the first message: the conversation begins to exist now
            choices = self.choices
            await self._store.create_conversation(self.id, self.locale, choices)
            self.stored = True
            if self.choices != choices:  # a `configure` came while it was being created
                await self._store.save_choices(self.id, self.choices)
            for seq, frame in self._recent:  # what this session sent before, in order
                self._store.log_frame(self.id, seq, frame)
                if self.publish is not None:
                    self.publish(self.id, seq, frame)
        await self._save(position)

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

    def refuse_if_replying(self) -> bool:
        """True (and the person is told: busy) when a reply runs."""
        if self._turn is not None and self._turn.running:
            self._turn.refuse_busy()
            return True
        return False

    def start_turn(self, turn: TurnHandle) -> bool:
        """Start `turn`; False when one is running already (that one tells the person)."""
        if self._turn is not None and self._turn.running:
            self._turn.refuse_busy()
            return False
        self._turn_start = _TurnStart(self._seq, len(self.history))
        self._turn = turn
        turn.start().add_done_callback(self._turn_ended)
        self.on_turn_start(self)
        return True

    def _turn_ended(self, _task: asyncio.Task[None]) -> None:
        self.on_turn_end(self)
        self.on_idle(self)

    def following_turn(self, start: int) -> None:
        """(A follower) a turn runs on another worker since `start`: a client that comes back
        without `last_seq` gets the history up to the person's last message, then the turn's
        frames."""
        asked = self.last_said()
        messages = len(self.history) if asked is None else asked + 1
        self._turn_start = _TurnStart(min(start, self._seq), messages)

    @property
    def turn_start_seq(self) -> int:
        """The last seq before the running (or last) turn's first frame."""
        return self._turn_start.seq

    async def stop_turn(self) -> None:
        """End the running turn as a stopping server does: stored state is left as it is."""
        if self._turn is not None:
            await self._turn.close()

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


def said_by_person(message: JsonDict) -> bool:
    """A user message with something the person said (not only tool results)."""
    content = message["content"]
    if message["role"] != "user":
        return False
    return isinstance(content, str) or any(b.get("type") != "tool_result" for b in content)


def _padded(values: list[_Mark], filler: _Mark, length: int) -> list[_Mark]:
    """One value per message (a conversation stored before a mark existed has none)."""
    return [*values[:length], *[filler] * (length - len(values))]


def read_last_seq(raw: str | None) -> int | None:
    """A client's `last_seq`: ASCII digits only (`str.isdigit` takes '²'), bounded in length."""
    if raw is None or not 0 < len(raw) <= LAST_SEQ_MAX_DIGITS:
        return None
    if not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


def new_session_frame(session: Session) -> protocol.SessionCreated:
    data = protocol.SessionCreatedData(
        session_id=session.id, locale=session.locale, settings=session.settings()
    )
    return protocol.SessionCreated(data=data)
