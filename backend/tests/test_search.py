"""Search, rename and pin on the store, on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from gatehouse.search import (
    TITLE_POSITION,
    SnippetPart,
    fts5_query,
    query_terms,
    snippet_parts,
    tsquery,
)
from gatehouse.store import Store
from tests.postgres import postgres_server
from tests.test_store import _migrate  # pyright: ignore[reportPrivateUsage]

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def _postgres() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'gatehouse.db'}"
    else:
        url = request.getfixturevalue("_postgres")
    opened = await Store.open(url)
    yield opened
    await opened.close()


def _said(text: str, role: str = "user") -> dict[str, object]:
    return {"role": role, "content": [{"type": "text", "text": text}]}


async def _conversation(store: Store, *texts: str) -> str:
    conversation = uuid.uuid4().hex
    await store.create_conversation(conversation, "en")
    for position, text in enumerate(texts):
        await store.save_message(
            conversation, position, _said(text, ("user", "assistant")[position % 2])
        )
    return conversation


def _marked(parts: list[SnippetPart]) -> str:
    return "".join(f"[{p.text}]" if p.hit else p.text for p in parts)


async def test_messages_and_titles_are_found_with_their_matches_marked(any_store: Store) -> None:
    word = f"zebra{uuid.uuid4().hex[:6]}"
    by_reply = await _conversation(any_store, "plan a trip", f"Take the {word} crossing north")
    by_title = await _conversation(any_store, f"{word} facts please", "Stripes.")
    await _conversation(any_store, "nothing to see", "here")
    hits = await any_store.search(word.upper())  # case does not matter
    assert {hit.id for hit in hits} == {by_reply, by_title}
    reply_hit = next(hit for hit in hits if hit.id == by_reply)
    assert [m.position for m in reply_hit.matches] == [1]
    assert f"[{word}]" in _marked(reply_hit.matches[0].snippet)
    title_hit = next(hit for hit in hits if hit.id == by_title)
    # The first words named it, so the title and the first message both match.
    assert sorted(m.position for m in title_hit.matches) == [TITLE_POSITION, 0]


async def test_every_word_must_match_and_a_word_start_is_enough(any_store: Store) -> None:
    tag = uuid.uuid4().hex[:6]
    both = await _conversation(any_store, f"red{tag} apples and green{tag} pears")
    await _conversation(any_store, f"red{tag} apples only")
    assert [hit.id for hit in await any_store.search(f"green{tag} red{tag}")] == [both]
    assert [hit.id for hit in await any_store.search(f"pears red{tag[:3]}")] == [both]


@pytest.mark.parametrize(
    "odd",
    ['"', "'", "*", "a OR", "NEAR(", "-x", "title:x", ")(", "x' | 'y", "!!", "\\", "^", "::*"],
)
async def test_search_syntax_typed_as_a_query_finds_nothing_and_fails_nothing(
    any_store: Store, odd: str
) -> None:
    await _conversation(any_store, "plain words here")
    assert await any_store.search(odd) == []


async def test_an_edited_message_is_found_by_its_new_words_only(any_store: Store) -> None:
    tag = uuid.uuid4().hex[:6]
    conversation = await _conversation(any_store, "hello", f"before{tag}")
    await any_store.save_message(conversation, 1, _said(f"after{tag}", "assistant"))
    assert await any_store.search(f"before{tag}") == []
    assert [hit.id for hit in await any_store.search(f"after{tag}")] == [conversation]
    await any_store.delete_conversation(conversation)
    assert await any_store.search(f"after{tag}") == []


async def test_a_renamed_conversation_is_found_by_its_new_title_and_keeps_it(
    any_store: Store,
) -> None:
    tag = uuid.uuid4().hex[:6]
    conversation = await _conversation(any_store, "first words")
    assert await any_store.rename(conversation, f"Holiday{tag} plans")
    assert not await any_store.set_generated_title(conversation, "Claude's idea")
    loaded = await any_store.load_conversation(conversation)
    assert loaded is not None
    assert (loaded.title, loaded.titled_by) == (f"Holiday{tag} plans", "person")
    hits = await any_store.search(f"holiday{tag}")
    assert [(h.id, [m.position for m in h.matches]) for h in hits] == [
        (conversation, [TITLE_POSITION])
    ]
    assert not await any_store.rename("nobody", "x")


async def test_claude_titles_only_a_conversation_named_by_its_first_words(
    any_store: Store,
) -> None:
    conversation = await _conversation(any_store, "please help me with taxes")
    assert await any_store.set_generated_title(conversation, "Tax help")
    loaded = await any_store.load_conversation(conversation)
    assert loaded is not None
    assert (loaded.title, loaded.titled_by) == ("Tax help", "claude")


async def test_pinned_conversations_come_first_and_pages_still_cover_all(
    any_store: Store,
) -> None:
    made = [await _conversation(any_store, f"chat {n}") for n in range(5)]
    assert await any_store.set_pinned(made[1], True)
    assert await any_store.set_pinned(made[3], True)
    listed: list[str] = []
    after = None
    while page := await any_store.list_conversations(2, after=after):
        listed += [row["id"] for row in page]
        last = page[-1]
        after = (bool(last["pinned"]), last["updated_at"], last["id"])
    ours = [c for c in listed if c in made]
    assert ours[:2] == [made[3], made[1]]  # pinned, newest first
    assert sorted(ours) == sorted(made) and len(listed) == len(set(listed))


async def test_a_database_from_before_0009_is_indexed_by_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        _migrate(connection, "0003")
        connection.exec_driver_sql(
            "insert into conversations values ('old', 'Walrus notes', 'en', 1, 1, 0)"
        )
        connection.exec_driver_sql(
            "insert into messages values ('old', 0, 'user', ?, 0)",
            ('[{"type": "text", "text": "tell me about narwhals"}]',),
        )
    engine.dispose()
    upgraded = await Store.open(f"sqlite:///{path}")
    try:
        assert [h.id for h in await upgraded.search("narwhals")] == ["old"]
        assert [h.id for h in await upgraded.search("walrus")] == ["old"]
    finally:
        await upgraded.close()


def test_queries_become_quoted_terms_and_snippets_plain_parts() -> None:
    assert query_terms('foo "bar" OR baz* foo') == ["foo", "bar", "or", "baz"]
    assert query_terms("x" * 500) == ["x" * 200]  # bounded
    assert fts5_query(["a", "b"]) == '"a"* "b"*'
    assert tsquery(["a", "b"]) == "'a':* & 'b':*"
    assert snippet_parts("see \x02this\x03 now") == [
        SnippetPart("see ", False),
        SnippetPart("this", True),
        SnippetPart(" now", False),
    ]
