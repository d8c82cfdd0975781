"""The event-stream parser reads Claude's stream as the SDK's own decoder would, however the
body is cut into chunks."""

from __future__ import annotations

from anthropic._streaming import SSEDecoder
from hypothesis import given, settings
from hypothesis import strategies as st

from gatehouse.sse import EventStreamParser

NO_NEWLINES = st.text(st.characters(blacklist_characters="\r\n", codec="utf-8"), max_size=12)
ENDINGS = st.sampled_from(["\n", "\r", "\r\n"])
FIELD_LINES = st.one_of(
    st.tuples(st.just("event"), NO_NEWLINES),
    st.tuples(st.just("data"), NO_NEWLINES),
    st.tuples(st.sampled_from(["id", "retry", "", "other"]), NO_NEWLINES),
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """Events of random fields, separators and line endings; the last may be left open."""
    out: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        for name, value in draw(st.lists(FIELD_LINES, max_size=4)):
            space = draw(st.sampled_from(["", " "]))
            out.append(f"{name}:{space}{value}{draw(ENDINGS)}")
        out.append(draw(ENDINGS))  # the blank line that ends the event
    for name, value in draw(st.lists(FIELD_LINES, max_size=2)):
        out.append(f"{name}: {value}{draw(ENDINGS)}")
    return "".join(out).encode()


def sdk_events(body: bytes) -> list[tuple[str, str]]:
    """Named events only: Claude's events are all named, and the SDK drops the rest too."""
    events = SSEDecoder().iter_bytes(iter([body]))
    return [(sse.event, sse.data) for sse in events if sse.event is not None]


def parsed(chunks: list[bytes]) -> list[tuple[str | None, str]]:
    parser = EventStreamParser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    return [(None if name is None else name.decode(), data.decode()) for name, data in events]


def cut(body: bytes, points: list[int]) -> list[bytes]:
    edges = [0, *sorted({p % (len(body) + 1) for p in points}), len(body)]
    return [body[a:b] for a, b in zip(edges, edges[1:], strict=False)]


@settings(max_examples=400, deadline=None)
@given(bodies(), st.lists(st.integers(0, 10_000), max_size=8))
def test_same_events_as_the_sdk_decoder_for_any_chunking(body: bytes, points: list[int]) -> None:
    named = [(name, data) for name, data in parsed(cut(body, points)) if name is not None]
    assert named == sdk_events(body)


def test_a_crlf_split_between_two_chunks_ends_one_line() -> None:
    chunks = [b"event: ping\r", b"\ndata: {}\r", b"\n\r", b"\n"]
    assert parsed(chunks) == [("ping", "{}")]


def test_data_lines_join_and_comments_are_skipped() -> None:
    body = b': keep-alive\nevent:message_delta\ndata: {"a":\ndata:1}\nid: 7\n\n'
    assert parsed([body]) == [("message_delta", '{"a":\n1}')]


def test_a_byte_at_a_time_gives_the_same_events() -> None:
    body = b"event: a\ndata: \xc3\xa9\n\nevent: b\r\ndata: 2\r\n\r\n"
    assert parsed([body[i : i + 1] for i in range(len(body))]) == parsed([body])
    assert parsed([body]) == [("a", "é"), ("b", "2")]


def test_an_event_left_open_at_the_end_is_not_yielded() -> None:
    assert parsed([b"event: message_stop\ndata: {}\n"]) == []
