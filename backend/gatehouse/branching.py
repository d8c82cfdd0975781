"""The person's actions on branches (gatehouse.branches): retry a reply, edit a message,
switch to another branch.

Each runs only while no reply runs (else the person is told: busy), names messages by their
ids in this conversation only (any other id: `unknown_message`), changes the stored tree
before anything follows, and sends the new active branch to every socket as a `history`.
Retry and edit then start a reply to the person's message on that branch.
"""

from __future__ import annotations

from typing import Any

from gatehouse.errors import GatehouseError
from gatehouse.session import Session, said_by_person
from gatehouse.turn import Turn, Turns

JsonDict = dict[str, Any]


async def retry(turns: Turns, session: Session) -> bool:
    """Answer the person's last message again; the reply it had stays as a sibling branch
    (its calls and files untouched). After an error or a stop with nothing kept, the same
    message is simply answered again."""
    if session.refuse_if_replying():
        return False
    asked = session.last_said()
    if asked is None:
        session.emit_error(GatehouseError("nothing_to_retry"))
        return False
    if asked + 1 < len(session.history):
        position = session.positions[asked]
        session.rewind(asked + 1)
        session.tree.choose(position, None)
        await session.store.choose_branches(session.id, [(position, None)])
    await session.emit_history()
    return session.start_turn(Turn(turns, session, again=True))


async def edit(turns: Turns, session: Session, message_id: int, text: str) -> bool:
    """A new sibling of the person's message `message_id` with `text` (its files kept), and
    a reply to it; the branch it started stays."""
    if session.refuse_if_replying():
        return False
    index = session.index_of(message_id)
    if index is None or session.hidden[index] or not said_by_person(session.history[index]):
        session.emit_error(GatehouseError("unknown_message"))
        return False
    if len(text) > turns.max_message_chars:
        session.emit_error(GatehouseError("message_too_long"))
        return False
    kept = [block for block in _blocks(session.history[index]) if block.get("type") != "text"]
    attachments = session.attachments[index]
    session.rewind(index)
    message = {"role": "user", "content": [*kept, {"type": "text", "text": text}]}
    await session.add_branch(message, attachments)
    await session.emit_history()
    return session.start_turn(Turn(turns, session, again=True))


async def switch(session: Session, message_id: int) -> bool:
    """Make the branch through `message_id` the active one."""
    if session.refuse_if_replying():
        return False
    if message_id not in session.tree.parents:
        session.emit_error(GatehouseError("unknown_message"))
        return False
    choices = session.tree.select(message_id)
    await session.store.choose_branches(session.id, choices)
    await session.reload()
    await session.emit_history()
    return True


def _blocks(message: JsonDict) -> list[JsonDict]:
    content = message["content"]
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
