"""Full-text search over conversations: what is indexed, and a person's query made safe.

Every message's text and every conversation's title is one row of `search_entries` (the title
at position `TITLE_POSITION`). SQLite searches it through an FTS5 table kept in sync by
triggers (migration 0009); PostgreSQL through a GIN index on `to_tsvector('simple', body)`.

A query never reaches either engine's syntax as typed: it is cut to its words (letters and
digits), at most `MAX_TERMS` of them, each quoted and matched as a prefix, all required. Odd
input (quotes, operators, a lone `*`) therefore finds nothing instead of failing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

JsonDict = dict[str, Any]

TITLE_POSITION = -1
MAX_QUERY_CHARS = 200
MAX_TERMS = 8
MAX_INDEXED_CHARS = 100_000  # a huge message is found by its start
# Snippets come back from the engine with these around each match; they are removed from
# indexed text, so they can only be the engine's.
HIT_START, HIT_END = "\x02", "\x03"
_MARKERS = re.compile("[\x02\x03]")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SnippetPart:
    text: str
    hit: bool


def indexed_text(content: Any) -> str:
    """The text of a message's content that search finds: its text blocks."""
    if isinstance(content, str):
        text = content
    else:
        blocks: list[JsonDict] = content
        text = "\n\n".join(
            b["text"] for b in blocks if b.get("type") == "text" and isinstance(b.get("text"), str)
        )
    return _MARKERS.sub(" ", text[:MAX_INDEXED_CHARS])


def query_terms(query: str) -> list[str]:
    """The words of a query, lower-cased, without repeats; empty when it has none."""
    words = [w.lower() for w in _WORD.findall(query[:MAX_QUERY_CHARS])]
    return list(dict.fromkeys(words))[:MAX_TERMS]


def fts5_query(terms: list[str]) -> str:
    """Every term, quoted (no FTS5 operator survives), as a prefix, all required."""
    return " ".join(f'"{term}"*' for term in terms)


def tsquery(terms: list[str]) -> str:
    """The same for PostgreSQL's `to_tsquery`: quoted lexemes, prefix matched, joined by &."""
    return " & ".join(f"'{term}':*" for term in terms)


def snippet_parts(snippet: str) -> list[SnippetPart]:
    """Split an engine's marked snippet into plain and matched pieces (no markup to escape)."""
    parts: list[SnippetPart] = []
    for piece in re.split(f"({HIT_START}[^{HIT_END}]*{HIT_END})", snippet):
        if not piece:
            continue
        hit = piece.startswith(HIT_START)
        text = _MARKERS.sub("", piece)
        if text:
            parts.append(SnippetPart(text, hit))
    return parts
