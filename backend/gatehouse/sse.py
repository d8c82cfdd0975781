"""Server-sent events, parsed from the raw bytes of Claude's streamed reply.

The SDK sends the request and hands back the raw HTTP response (`with_streaming_response`);
this parser turns the body's bytes into `(event name, data)` pairs, one pass per chunk
received. It keeps the event-stream rules the SDK's own decoder keeps: a line ends at `\\n`,
`\\r` or `\\r\\n` (even split across chunks); a blank line ends an event; `event:` names it;
`data:` lines are joined with `\\n`; one space after the colon is dropped; `:` comments, `id:`,
`retry:` and unknown fields are ignored. An event still open when the body ends is dropped.

Why not the SDK's decoder: it is two more async generators per delta, decodes and re-splits
every line, and builds an object per event; with hundreds of streams in one process that was
about a sixth of the CPU per relayed chunk (bench/results/FINDINGS.md).
"""

from __future__ import annotations

ServerEvent = tuple[bytes | None, bytes]  # (event name, data); data is JSON for Claude's stream


class EventStreamParser:
    def __init__(self) -> None:
        self._tail = b""  # the start of a line whose end has not arrived yet
        self._name: bytes | None = None
        self._data: list[bytes] = []
        self._skip_lf = False  # the last chunk ended in \r: a \n starting the next one is its end

    def feed(self, chunk: bytes) -> list[ServerEvent]:
        """The events completed by `chunk`, in order."""
        if self._skip_lf:
            self._skip_lf = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if b"\r" in chunk:
            self._skip_lf = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = (self._tail + chunk if self._tail else chunk).split(b"\n")
        self._tail = lines.pop()
        events: list[ServerEvent] = []
        for line in lines:
            if line:
                self._field(line)
            elif self._name or self._data:  # an empty name is no name
                events.append((self._name or None, b"\n".join(self._data)))
                self._name, self._data = None, []
        return events

    def _field(self, line: bytes) -> None:
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._name = value
