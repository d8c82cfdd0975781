"""A short title by Claude for a new conversation, asked once its first reply has ended.

Off the reply's path: the request runs in its own task after `assistant_message_completed`,
with no retries and a short timeout. When it fails, or the person renamed the conversation
meanwhile, the title stays what it was (the first words of the first message).
"""

from __future__ import annotations

import asyncio
import re
from typing import Protocol

import structlog

from gatehouse import protocol
from gatehouse.errors import ModelError
from gatehouse.llm import Claude, JsonDict
from gatehouse.store import Store, StoreWriteError

log = structlog.get_logger(__name__)

MAX_TITLE_CHARS = 80
PROMPT_CHARS = 2_000  # of the message and of the reply: plenty to name them
TITLE_PROMPT = (
    "Write a title of at most six words for the conversation below, in the language of its "
    "first message. Answer with the title alone: no quotes, no final period.\n\n"
    "<message>\n{message}\n</message>\n<reply>\n{reply}\n</reply>"
)
_DECORATION = re.compile(r"""^[\s"'`*#“”«»]+|[\s"'`*#“”«».]+$""")


class TitledSession(Protocol):
    id: str

    def emit(self, frame: protocol.ServerFrame) -> str: ...


class Titles:
    def __init__(self, claude: Claude, store: Store, enabled: bool) -> None:
        self._claude = claude
        self._store = store
        self._enabled = enabled
        self._running: set[asyncio.Task[None]] = set()

    def after_first_reply(self, session: TitledSession, history: list[JsonDict]) -> None:
        if not self._enabled:
            return
        message, reply = _first_exchange(history)
        if not message:
            return
        task = asyncio.create_task(self._name(session, message, reply), name=f"title:{session.id}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _name(self, session: TitledSession, message: str, reply: str) -> None:
        prompt = TITLE_PROMPT.format(message=message[:PROMPT_CHARS], reply=reply[:PROMPT_CHARS])
        try:
            title = tidy_title(await self._claude.short_answer(prompt))
        except ModelError as err:
            log.info("title_not_generated", session_id=session.id, code=err.code)
            return
        if not title:
            return
        try:
            if not await self._store.set_generated_title(session.id, title):
                return  # renamed by the person meanwhile, or deleted
        except StoreWriteError:
            log.warning("title_not_stored", session_id=session.id)
            return
        session.emit(protocol.ConversationTitled(data=protocol.ConversationTitledData(title=title)))

    async def aclose(self) -> None:
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)


def tidy_title(answer: str) -> str:
    """The first line of Claude's answer, without quotes or markup around it, bounded."""
    lines = [line for line in answer.splitlines() if line.strip()]
    if not lines:
        return ""
    title = " ".join(_DECORATION.sub("", lines[0]).split())
    return title[:MAX_TITLE_CHARS]


def _first_exchange(history: list[JsonDict]) -> tuple[str, str]:
    texts = [_text(m["content"]) for m in history[:2]]
    return (texts[0], texts[1] if len(texts) > 1 else "")


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    blocks: list[JsonDict] = content  # type: ignore[assignment]
    return " ".join(b["text"] for b in blocks if b.get("type") == "text" and b.get("text"))
