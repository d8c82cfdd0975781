"""What the model server reports as `usage`, and the attachment rules it enforces, as the API does.

Prompt caching: a request's prefix runs tools → system → messages, block by block. A block with
`cache_control` is a breakpoint (at most `MAX_BREAKPOINTS`, else a 400). The prefix up to the
longest breakpoint not yet seen is written (`cache_creation_input_tokens`); the longest prefix
seen before, at a block boundary up to `LOOKBACK_BLOCKS` before a breakpoint, is read
(`cache_read_input_tokens`); the rest is `input_tokens`. Prefixes are keyed on their exact
content (without the `cache_control` markers, which are not part of the prompt), and their
size is a deterministic estimate: a token per `CHARS_PER_TOKEN` characters of their JSON. A
prefix shorter than `min_tokens` is never cached, as the API does not cache one.

Attachments: an `image` must be base64 of a PNG, JPEG, GIF or WebP whose bytes match its
`media_type`, at most 5 MB of base64; a `document` must be base64 of a PDF.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import threading
from typing import Any, cast

JsonDict = dict[str, Any]

MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20
CHARS_PER_TOKEN = 4
MAX_IMAGE_BASE64 = 5 * 1024 * 1024  # the API's "5 MB", counted on the base64 text
IMAGE_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}


def estimate_tokens(value: Any) -> int:
    return math.ceil(len(_canonical(value)) / CHARS_PER_TOKEN)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _without_cache_control(block: JsonDict) -> JsonDict:
    return {key: value for key, value in block.items() if key != "cache_control"}


def prompt_blocks(body: JsonDict) -> list[JsonDict]:
    """The request's prompt, block by block, in the order the cache reads it."""
    tools: list[JsonDict] = body.get("tools") or []
    blocks: list[JsonDict] = [{"tool": tool} for tool in tools]
    system: Any = body.get("system")
    if isinstance(system, str):
        blocks.append({"system": {"type": "text", "text": system}})
    elif isinstance(system, list):
        blocks += [{"system": block} for block in cast(list[JsonDict], system)]
    for index, message in enumerate(cast(list[JsonDict], body.get("messages") or [])):
        content: Any = message.get("content")
        items: list[JsonDict] = (
            [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        )
        blocks += [{"message": index, "role": message.get("role"), "block": b} for b in items]
    return blocks


def _is_breakpoint(entry: JsonDict) -> bool:
    block: Any = entry.get("tool") or entry.get("system") or entry.get("block")
    return isinstance(block, dict) and "cache_control" in block


def _plain(entry: JsonDict) -> JsonDict:
    return {
        key: _without_cache_control(cast(JsonDict, value)) if isinstance(value, dict) else value
        for key, value in entry.items()
    }


class PromptCache:
    """The prefixes written so far (thread-safe); `usage` reports and records one request."""

    def __init__(self, min_tokens: int = 1024) -> None:
        self.min_tokens = min_tokens
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def breakpoint_problem(self, body: JsonDict) -> str | None:
        found = sum(1 for entry in prompt_blocks(body) if _is_breakpoint(entry))
        if found > MAX_BREAKPOINTS:
            return (
                f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
                f"Found {found}."
            )
        return None

    def usage(self, body: JsonDict) -> JsonDict:
        entries = prompt_blocks(body)
        keys: list[str] = []
        sizes: list[int] = []  # tokens of the prefix through each block
        digest, size = hashlib.sha256(), 0
        for entry in entries:
            text = _canonical(_plain(entry))
            digest.update(text.encode() + b"\n")
            size += len(text)
            keys.append(digest.hexdigest())
            sizes.append(math.ceil(size / CHARS_PER_TOKEN))
        total = sizes[-1] if sizes else 0
        breakpoints = [n for n, entry in enumerate(entries) if _is_breakpoint(entry)]
        with self._lock:
            read = self._longest_hit(keys, breakpoints)
            written = [n for n in breakpoints if sizes[n] >= self.min_tokens and n > read]
            self._seen.update(keys[n] for n in breakpoints if sizes[n] >= self.min_tokens)
        read_tokens = sizes[read] if read >= 0 else 0
        created = sizes[written[-1]] - read_tokens if written else 0
        return {
            "input_tokens": total - read_tokens - created,
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read_tokens,
        }

    def _longest_hit(self, keys: list[str], breakpoints: list[int]) -> int:
        """The last block of the longest prefix cached before, or -1."""
        best = -1
        for point in breakpoints:
            for n in range(point, max(point - LOOKBACK_BLOCKS, -1), -1):
                if keys[n] in self._seen:
                    best = max(best, n)
                    break
        return best


# ── attachments ──────────────────────────────────────────────────────────────────────────────


def attachment_problems(body: JsonDict) -> list[str]:
    problems: list[str] = []
    for index, message in enumerate(cast(list[JsonDict], body.get("messages") or [])):
        content: Any = message.get("content")
        if not isinstance(content, list):
            continue
        for n, block in enumerate(cast(list[JsonDict], content)):
            where = f"messages.{index}.content.{n}"
            if block.get("type") == "image":
                problems += _image_problems(where, block.get("source") or {})
            elif block.get("type") == "document":
                problems += _document_problems(where, block.get("source") or {})
    return problems


def _decoded(data: Any) -> bytes | None:
    if not isinstance(data, str):
        return None
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def _sniffed_image(raw: bytes) -> str | None:
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "image/webp"
    for media_type, signatures in IMAGE_SIGNATURES.items():
        if raw.startswith(signatures):
            return media_type
    return None


def _image_problems(where: str, source: JsonDict) -> list[str]:
    if source.get("type") != "base64":
        return []  # a URL or a file id: not ours to check
    data = source.get("data")
    if isinstance(data, str) and len(data) > MAX_IMAGE_BASE64:
        return [
            f"{where}.image.source.base64: image exceeds 5 MB maximum: "
            f"{len(data)} bytes > {MAX_IMAGE_BASE64} bytes"
        ]
    raw = _decoded(data)
    if raw is None:
        return [f"{where}.image.source.base64.data: invalid base64 data"]
    media_type = source.get("media_type")
    if media_type not in ("image/png", "image/jpeg", "image/gif", "image/webp"):
        return [f"{where}.image.source.base64.media_type: Input should be an image type"]
    if _sniffed_image(raw) != media_type:
        return [
            f"{where}.image.source.base64.data: Image does not match the provided media type "
            f"{media_type}"
        ]
    return []


def _document_problems(where: str, source: JsonDict) -> list[str]:
    if source.get("type") != "base64":
        return []
    raw = _decoded(source.get("data"))
    if raw is None:
        return [f"{where}.document.source.base64.data: invalid base64 data"]
    if source.get("media_type") != "application/pdf" or not raw.startswith(b"%PDF-"):
        return [f"{where}.document.source.base64.data: The PDF specified was not valid."]
    return []
