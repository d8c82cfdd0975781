"""The person's attachments: checked, then turned into the content blocks Claude reads.

Nothing the client says about a file is trusted but its name: the media type is read from the
bytes (Pillow opens and verifies an image as PNG, JPEG, GIF or WebP only; a PDF must start as
one), so a program renamed `photo.png` is refused. Sizes are held to the Messages API's own
limits, so a conversation never carries a file that would make every later request fail: an
image at most 5 MB of base64 and 8000 pixels a side; a message's attachments together, a PDF
included, at most `MAX_ATTACHMENTS_BYTES` of base64; a conversation's at most
`MAX_CONVERSATION_ATTACHMENTS_BYTES`, since every request sends them all again (the API takes
32 MB a request). Codes: `attachment_type`, `attachment_too_large`, `too_many_attachments`,
`attachments_too_large`.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from gatehouse.errors import GatehouseError

JsonDict = dict[str, Any]

MAX_IMAGE_BASE64 = 5 * 1024 * 1024  # the API's "5 MB", which it counts on the base64 text
MAX_IMAGE_SIDE = 8000  # pixels, the API's limit
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
PDF = "application/pdf"
FILE_BLOCKS = frozenset({"image", "document"})


@dataclass(frozen=True)
class Limits:
    count: int  # per message
    message_bytes: int  # base64 of one message's attachments together
    conversation_bytes: int  # base64 of every attachment a conversation holds


DEFAULT_LIMITS = Limits(count=5, message_bytes=10 * 1_048_576, conversation_bytes=24 * 1_048_576)


@dataclass(frozen=True)
class Upload:
    """What the client sent: a name for people, the base64 bytes (its media type is not read)."""

    name: str
    data: str


@dataclass(frozen=True)
class Checked:
    blocks: list[JsonDict]  # image / document content blocks, for Claude
    names: list[JsonDict]  # beside the message: {name, media_type, bytes}, in block order


def check(uploads: Sequence[Upload], limits: Limits, held_bytes: int) -> Checked:
    """Check every upload, or raise the error of the first one refused; `held_bytes` is the
    base64 the conversation holds already."""
    if len(uploads) > limits.count:
        raise GatehouseError("too_many_attachments")
    size = sum(len(upload.data) for upload in uploads)
    if size > limits.message_bytes:
        raise GatehouseError("attachment_too_large")
    if held_bytes + size > limits.conversation_bytes:
        raise GatehouseError("attachments_too_large")
    blocks: list[JsonDict] = []
    names: list[JsonDict] = []
    for upload in uploads:
        raw = _decoded(upload.data)
        media_type = _media_type(raw, upload.data)
        source = {"type": "base64", "media_type": media_type, "data": upload.data}
        kind = "document" if media_type == PDF else "image"
        blocks.append({"type": kind, "source": source})
        names.append({"name": upload.name, "media_type": media_type, "bytes": len(raw)})
    return Checked(blocks, names)


def held_bytes(history: Sequence[JsonDict]) -> int:
    """The base64 of every attachment in a conversation's history."""
    return sum(len(block["source"]["data"]) for block in file_blocks(history))


def file_blocks(history: Sequence[JsonDict]) -> list[JsonDict]:
    return [
        block
        for message in history
        if message["role"] == "user" and not isinstance(message["content"], str)
        for block in message["content"]
        if block.get("type") in FILE_BLOCKS and block.get("source", {}).get("type") == "base64"
    ]


def message_file(message: JsonDict, index: int) -> tuple[bytes, str] | None:
    """The bytes and media type of a message's `index`-th attachment, if it has one."""
    content: Any = message["content"]
    if isinstance(content, str):
        return None
    found = [b for b in content if b.get("type") in FILE_BLOCKS]
    if not 0 <= index < len(found) or found[index].get("source", {}).get("type") != "base64":
        return None
    source = found[index]["source"]
    return base64.b64decode(source["data"]), source["media_type"]


def _decoded(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise GatehouseError("attachment_type") from None


def _media_type(raw: bytes, data: str) -> str:
    if raw.startswith(b"%PDF-"):
        return PDF
    if len(data) > MAX_IMAGE_BASE64:
        _image_format(raw)  # something else that big is refused for what it is
        raise GatehouseError("attachment_too_large")
    return _image_format(raw)


def _image_format(raw: bytes) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=list(IMAGE_TYPES)) as image:
                image_format, (width, height) = image.format, image.size
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise GatehouseError("attachment_too_large") from None
    except Exception:  # Pillow raises many kinds for bytes that are not a whole image
        raise GatehouseError("attachment_type") from None
    if image_format not in IMAGE_TYPES:
        raise GatehouseError("attachment_type")
    if max(width, height) > MAX_IMAGE_SIDE:
        raise GatehouseError("attachment_too_large")
    return IMAGE_TYPES[image_format]
