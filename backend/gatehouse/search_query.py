"""The one search the store offers, on SQLite's FTS5 or PostgreSQL's full-text search.

Both return the best-ranked entries (a message's text or a title), each with a snippet whose
matches are marked; they are grouped here by conversation, best conversation first. The query
text is already reduced to quoted terms by gatehouse.search, and goes in as a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse.search import HIT_END, HIT_START, SnippetPart, fts5_query, snippet_parts, tsquery

ROWS_SCANNED = 200  # best entries read; enough for `limit` conversations in practice
MATCHES_PER_CONVERSATION = 3
SNIPPET_WORDS = 16

_SQLITE = text(
    "SELECT e.conversation_id, e.position, c.title, c.updated_at, c.pinned, "
    f"snippet(search_fts, 0, char(2), char(3), '…', {SNIPPET_WORDS}) AS snippet "
    "FROM search_fts JOIN search_entries e ON e.id = search_fts.rowid "
    "JOIN conversations c ON c.id = e.conversation_id "
    "WHERE search_fts MATCH :query ORDER BY search_fts.rank LIMIT :rows"
)
_POSTGRES = text(
    "WITH hits AS ("
    " SELECT e.conversation_id, e.position, e.body, q.q,"
    " ts_rank(to_tsvector('simple', e.body), q.q) AS rank"
    " FROM search_entries e, (SELECT to_tsquery('simple', :query) AS q) q"
    " WHERE to_tsvector('simple', e.body) @@ q.q ORDER BY rank DESC LIMIT :rows)"
    " SELECT h.conversation_id, h.position, c.title, c.updated_at, c.pinned,"
    " ts_headline('simple', h.body, h.q, :options) AS snippet"
    " FROM hits h JOIN conversations c ON c.id = h.conversation_id ORDER BY h.rank DESC"
)
_HEADLINE_OPTIONS = (
    f'StartSel="{HIT_START}", StopSel="{HIT_END}", MaxWords={SNIPPET_WORDS}, MinWords=6, '
    'FragmentDelimiter=" … ", MaxFragments=1'
)


@dataclass(frozen=True)
class SearchMatch:
    position: int  # the message's, or TITLE_POSITION
    snippet: list[SnippetPart]


@dataclass
class SearchHit:
    id: str
    title: str
    updated_at: float
    pinned: bool
    matches: list[SearchMatch] = field(default_factory=lambda: list[SearchMatch]())


async def find(connection: AsyncConnection, terms: list[str], limit: int) -> list[SearchHit]:
    if connection.dialect.name == "sqlite":
        params: dict[str, Any] = {"query": fts5_query(terms), "rows": ROWS_SCANNED}
        rows = await connection.execute(_SQLITE, params)
    else:
        params = {"query": tsquery(terms), "rows": ROWS_SCANNED, "options": _HEADLINE_OPTIONS}
        rows = await connection.execute(_POSTGRES, params)
    hits: dict[str, SearchHit] = {}
    for row in rows:
        hit = hits.get(row.conversation_id)
        if hit is None:
            if len(hits) == limit:
                continue
            hit = SearchHit(row.conversation_id, row.title, row.updated_at, bool(row.pinned))
            hits[row.conversation_id] = hit
        if len(hit.matches) < MATCHES_PER_CONVERSATION:
            hit.matches.append(SearchMatch(row.position, snippet_parts(row.snippet)))
    return list(hits.values())
