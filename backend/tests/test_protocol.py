"""The per-delta `ai_chunk` encoder writes exactly what the pydantic model would."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from gatehouse import protocol

# Any text the person can be sent: every code point but lone surrogates (see llm._encodable).
TEXT = st.text(st.characters(codec="utf-8"), max_size=200)


@settings(max_examples=500, deadline=None)
@given(TEXT, st.integers(0, 2**53))
def test_encode_ai_chunk_matches_the_model(text: str, seq: int) -> None:
    fast = protocol.encode_ai_chunk(text, seq)
    model = protocol.AiChunk(data=protocol.AiChunkData(text=text))
    assert fast == protocol.encode_numbered(model, seq)
    assert json.loads(fast) == {"event": "ai_chunk", "data": {"text": text}, "seq": seq}
