"""Turns a built-in tool's progress (bytes of its text written so far) into `tool_chunk` frames.

Progress reports byte offsets; the text is sliced from the approved content through an
incremental UTF-8 decoder, so the chunks always join into exactly what was written, whatever
the chunk boundaries and even when a late progress notification is dropped.
"""

from __future__ import annotations

import codecs
from typing import Any, Protocol

from gatehouse import protocol


class FrameSink(Protocol):
    def emit(self, frame: protocol.ServerFrame) -> Any: ...


class ChunkRelay:
    def __init__(self, sink: FrameSink, tool_use_id: str, text: str) -> None:
        self._sink = sink
        self._tool_use_id = tool_use_id
        self._data = text.encode()
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._sent = 0
        self.total = len(self._data)

    async def on_progress(self, progress: float, _total: float | None, _msg: str | None) -> None:
        self._advance(min(int(progress), self.total))

    def finish(self) -> None:
        """The call succeeded: whatever progress did not cover was written too."""
        self._advance(self.total)

    def _advance(self, upto: int) -> None:
        if upto <= self._sent:
            return
        text = self._decoder.decode(self._data[self._sent : upto], final=upto == self.total)
        self._sent = upto
        if text:
            self._sink.emit(
                protocol.ToolChunk(
                    data=protocol.ToolChunkData(chunk=text, tool_use_id=self._tool_use_id)
                )
            )
