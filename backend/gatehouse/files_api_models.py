"""The shapes the file-versions routes answer with (files_api.py): declared for the OpenAPI
document, from which the frontend's types are generated, and checked on the way out."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class FileStateOut(BaseModel):
    exists: bool
    hash: str | None
    size: int | None
    kept: bool = Field(description="False: larger than VERSION_MAX_BYTES, only its hash is known")


class FileVersionOut(BaseModel):
    id: int
    path: str
    source: Literal["tool", "undo", "redo", "restore"]
    conversation_id: str | None
    conversation_title: str | None
    turn: int | None
    tool_use_id: str | None
    before: FileStateOut
    after: FileStateOut
    created_at: float = Field(description="seconds since the epoch")
    undone_by: int | None


class ListedFileOut(BaseModel):
    path: str
    exists: bool
    size: int | None
    modified: float | None
    versioned: bool
    changed_outside: bool


class FileListOut(BaseModel):
    files: list[ListedFileOut]
    truncated: bool


class FileHistoryOut(BaseModel):
    path: str
    current: FileStateOut
    changed_outside: bool
    versions: list[FileVersionOut]


class VersionsOut(BaseModel):
    versions: list[FileVersionOut]


class ConflictOut(BaseModel):
    path: str
    expected: FileStateOut
    current: FileStateOut


class RefusalDetail(BaseModel):
    code: str
    message: str
    conflicts: list[ConflictOut] | None = None


class Refusal(BaseModel):
    """Nothing on disk changed: 409 (404 when there is nothing of that id, 400 a bad path)."""

    detail: RefusalDetail
