"""The live sessions of this process, loaded from the store on demand.

A session stays live while a client is attached or its turn runs. When the last client
leaves, a streaming reply goes on for RESUME_GRACE_S; if nobody is back by then it is stopped
like a `cancel` (its partial text kept). A turn waiting for approvals is left to its approval
deadline, since the decision is stored and may come from a returning client.

A session that leaves memory has its ended turns' frames compacted: a client that comes back
later resumes from the stored messages (the history) instead.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from gatehouse.history_repair import repair_stored
from gatehouse.i18n import parse_locale
from gatehouse.session import Session
from gatehouse.settings import Locale
from gatehouse.store import Store, StoredConversation, StoredToolCall
from gatehouse.turn import Turns

if TYPE_CHECKING:
    from gatehouse.shared_sessions import SharedSessions

log = structlog.get_logger(__name__)

WS_4404_CONVERSATION_DELETED = 4404


class Sessions:
    def __init__(
        self,
        store: Store,
        grace_s: float,
        turns: Turns,
        shared: SharedSessions | None = None,
    ) -> None:
        self._store = store
        self._shared = shared  # several workers: sessions shared through Redis
        self._grace_s = grace_s
        self._turns = turns
        self._rule_cards = turns.policy.history_rules
        self._defaults = turns.claude.defaults
        self._live: dict[str, Session] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._compactions: dict[str, asyncio.Task[None]] = {}

    def live(self) -> list[Session]:
        return list(self._live.values())

    def find(self, session_id: str) -> Session | None:
        return self._live.get(session_id)

    def is_live(self, session: Session) -> bool:
        return self._live.get(session.id) is session

    async def for_takeover(self, session_id: str) -> Session | None:
        """The session of a conversation another worker left (shared_sessions), live here
        already or loaded now, with nothing resumed yet: the caller recovers it."""
        session = self._live.get(session_id)
        if session is not None:
            self._cancel_timer(session_id)
            return session
        stored = await self._store.load_conversation(session_id)
        if stored is None:
            return None
        if session_id in self._live:  # loaded by a connection meanwhile
            return self._live[session_id]
        session = self._new_stored(stored, parse_locale(stored.locale, "pt-BR"))
        self._register(session)
        return session

    def resume_turn(self, session: Session, calls: list[StoredToolCall]) -> bool:
        """Start the turn that finishes a round left open; False when there is none."""
        turn = self._turns.restored(session, calls)
        if turn is None:
            return False
        session.start_turn(turn)
        return True

    def _new_stored(self, stored: StoredConversation, locale: Locale) -> Session:
        return Session(
            self._store,
            locale,
            defaults=self._defaults,
            stored=repair_stored(stored),
            rule_cards=self._rule_cards,
        )

    def none_replying(self) -> bool:
        return not any(session.replying for session in self._live.values())

    async def open(self, session_id: str | None, locale: Locale) -> tuple[Session, bool]:
        """The session to attach a new connection to, and whether it is a resumed one."""
        if session_id:
            session = self._live.get(session_id) or await self._load(session_id, locale)
            if session is not None:
                self._cancel_timer(session.id)
                return session, True
        session = Session(
            self._store, locale, defaults=self._defaults, rule_cards=self._rule_cards
        )  # stored with its first message
        self._register(session)
        return session, False

    async def _load(self, session_id: str, locale: Locale) -> Session | None:
        compaction = self._compactions.get(session_id)
        if compaction is not None:  # the frames it drops must not be read half-dropped
            await asyncio.gather(compaction, return_exceptions=True)
        if session_id in self._live:  # loaded by another connection meanwhile
            return self._live[session_id]
        stored = await self._store.load_conversation(session_id)
        if stored is None:
            return None
        if session_id in self._live:  # loaded by another connection meanwhile
            return self._live[session_id]
        session = self._new_stored(stored, locale)
        self._register(session)
        if self._shared is not None:  # a round left open is recovered under its lease
            await self._shared.adopt_loaded(session, stored.tool_calls)
            return session
        turn = self._turns.restored(session, stored.tool_calls)
        if turn is not None:
            log.info("turn_resumed_after_restart", session_id=session.id)
            session.start_turn(turn)
        return session

    def _register(self, session: Session) -> None:
        self._live[session.id] = session
        session.on_idle = self._maybe_evict
        if self._shared is not None:
            self._shared.registered(session)

    def released(self, session: Session) -> None:
        """A connection left; start the grace period when it was the last one."""
        if session.attached or session.id not in self._live:
            return
        loop = asyncio.get_running_loop()
        self._cancel_timer(session.id)
        self._timers[session.id] = loop.call_later(self._grace_s, self._grace_over, session)

    def _grace_over(self, session: Session) -> None:
        self._timers.pop(session.id, None)
        if session.attached:
            return
        # With several workers, people may be following the reply on another worker.
        if session.replying and not session.awaiting_approval and self._shared is None:
            log.info("reply_stopped_nobody_listening", session_id=session.id)
            session.cancel_turn()  # on_idle evicts it once the turn has wound down
        else:
            self._maybe_evict(session)

    def _maybe_evict(self, session: Session) -> None:
        if session.attached or session.replying or session.id in self._timers:
            return
        if self._live.pop(session.id, None) is None:
            return
        if self._shared is not None:  # other workers may resume from its frames: frame_janitor
            self._shared.dropped(session)
        elif session.stored:
            self._compact(session)

    def _compact(self, session: Session) -> None:
        task = asyncio.create_task(session.compact(), name=f"compact:{session.id}")
        self._compactions[session.id] = task
        task.add_done_callback(lambda done: self._compacted(session.id, done))

    def _compacted(self, session_id: str, task: asyncio.Task[None]) -> None:
        if self._compactions.get(session_id) is task:
            del self._compactions[session_id]
        if not task.cancelled() and task.exception() is not None:
            log.warning(
                "frame_compaction_failed", session_id=session_id, error=repr(task.exception())
            )

    def _cancel_timer(self, session_id: str) -> None:
        timer = self._timers.pop(session_id, None)
        if timer is not None:
            timer.cancel()

    async def delete(self, session_id: str) -> bool:
        live = await self.forget_deleted(session_id)
        stored = await self._store.delete_conversation(session_id)
        if self._shared is not None:
            await self._shared.announce_deleted(session_id)
        return stored or live  # a live one may not be stored yet (no message)

    async def forget_deleted(self, session_id: str) -> bool:
        """A deleted conversation leaves memory here, its sockets closed with 4404; whether it
        was live here."""
        session = self._live.pop(session_id, None)
        self._cancel_timer(session_id)
        if session is None:
            return False
        await session.close(WS_4404_CONVERSATION_DELETED)
        if self._shared is not None:
            self._shared.dropped(session)
        return True

    async def close_all(self, code: int) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        await asyncio.gather(*(session.close(code) for session in self.live()))
        self._live.clear()
