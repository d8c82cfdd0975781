"""Versions of workspace files: kept before every built-in write, undone, restored, pruned.

The workspace server calls `around_write` around the moment a write replaces a file: the
file's previous content (or its absence) and the new content are kept as blobs and, once the
file is replaced, a row names both with the conversation, turn and call that wrote it. Undo
puts a call's (or a whole turn's) files back as they were, but only when each file still
holds what the call wrote: a file changed since (by anyone) is refused with `changed_since`,
never overwritten. Undo, redo and restore are recorded as versions too, so nothing they
replace is lost. One lock serialises every replacement Gatehouse makes and the pruning, so a
check and the replacement it guards cannot interleave with another.

A file larger than `max_bytes` is recorded by its hash only ("too large to keep"); undoing or
restoring to it is refused with `too_large_to_keep`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio.to_thread
import structlog
from pydantic import BaseModel, Field, ValidationError

from gatehouse import version_files
from gatehouse.blob_store import BlobStore, digest
from gatehouse.safe_paths import normalise_relative, workspace_root
from gatehouse.settings import Settings
from gatehouse.store import Store
from gatehouse.version_files import Snapshot
from gatehouse.version_index import FileState, Origin, Source, Version, VersionIndex

log = structlog.get_logger(__name__)

SWEEP_EVERY_S = 3600.0
ORIGIN_META_KEY = "gatehouse/origin"  # the `_meta` entry the tool hub puts on a built-in call
Side = Literal["before", "after"]


class _OriginMeta(BaseModel):
    conversation_id: str = Field(max_length=64)
    turn: int | None = None
    tool_use_id: str = Field(max_length=200)


def origin_meta(conversation_id: str, turn: int | None, tool_use_id: str) -> dict[str, Any]:
    """The `_meta` of a call, naming who makes it (read back by `around_write`)."""
    value = _OriginMeta(conversation_id=conversation_id, turn=turn, tool_use_id=tool_use_id)
    return {ORIGIN_META_KEY: value.model_dump()}


@dataclass(frozen=True)
class Conflict:
    path: str
    expected: FileState  # what Gatehouse wrote last
    current: FileState  # what is there now

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "expected": self.expected.as_json(),
            "current": self.current.as_json(),
        }


class VersionRefused(Exception):
    """An undo, redo or restore that does not run; `code` is stable, the message is for people.

    `nothing_to_undo`, `already_undone`, `nothing_to_redo`, `changed_since` (with the
    conflicts), `too_large_to_keep`, `not_kept` (pruned), `version_not_found`.
    """

    def __init__(self, code: str, message: str, conflicts: Sequence[Conflict] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.conflicts = list(conflicts)


@dataclass(frozen=True)
class Retention:
    max_age_s: float | None  # None: no age limit
    per_path: int | None  # None: no count limit


@dataclass
class FileVersions:
    workspace_dir: Path
    blobs: BlobStore
    index: VersionIndex
    max_bytes: int
    retention: Retention
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    # ── the hook of every built-in write ────────────────────────────────────────────────────
    @asynccontextmanager
    async def around_write(
        self, path: str, folder_fd: int, name: str, data: bytes, meta: Mapping[str, Any] | None
    ) -> AsyncGenerator[None]:
        """Keep the file's content before and after; the body replaces the file.

        A failure to keep the previous content fails the write (nothing may be lost)."""
        origin = _origin_of(meta)
        async with self._lock:
            before = await anyio.to_thread.run_sync(
                version_files.snapshot_at, folder_fd, name, self.max_bytes
            )
            after = await anyio.to_thread.run_sync(self._keep_bytes, data)
            await self._keep(before)
            yield
            with anyio.CancelScope(shield=True):  # the file is replaced: its record must land
                await self._record(path, origin, "tool", before.state, after)

    # ── undo, redo, restore ─────────────────────────────────────────────────────────────────
    async def undo_call(self, conversation_id: str, tool_use_id: str) -> list[Version]:
        rows = await self.index.of_call(conversation_id, tool_use_id)
        return await self._undo([r for r in rows if r.source == "tool"], "undo")

    async def undo_turn(self, conversation_id: str, tool_use_id: str) -> list[Version]:
        """Undo every file change of the turn the call belongs to."""
        rows = await self.index.of_call(conversation_id, tool_use_id)
        turn = next((r.origin.turn for r in rows if r.origin.turn is not None), None)
        if turn is not None:
            rows = await self.index.of_turn(conversation_id, turn)
        return await self._undo([r for r in rows if r.source == "tool"], "undo")

    async def redo_call(self, conversation_id: str, tool_use_id: str) -> list[Version]:
        """Undo the undo of a call: its files hold again what the call wrote."""
        rows = await self.index.of_call(conversation_id, tool_use_id)
        undos = [r for r in rows if r.source == "undo" and r.undone_by is None]
        if not undos:
            raise VersionRefused("nothing_to_redo", "This call's changes are not undone.")
        done = await self._undo(undos, "redo")
        undone = {r.id for r in undos}
        originals = [r.id for r in rows if r.source == "tool" and r.undone_by in undone]
        await self.index.mark_undone(originals, None)
        return done

    async def restore(self, version_id: int, side: Side, expected: str | None) -> Version:
        """Put the file back as it was before/after a version; `expected` is the hash of the
        file the person saw (None: no file), refused with `changed_since` if it differs."""
        version = await self.index.get(version_id)
        if version is None:
            raise VersionRefused("version_not_found", "There is no such version.")
        target = version.before if side == "before" else version.after
        async with self._lock:
            data = await self._content_of(target)
            current = await self._snapshot(version.path)
            if current.state.hash != expected:
                conflict = Conflict(version.path, FileState(expected), current.state)
                raise VersionRefused("changed_since", _changed_text(version.path), [conflict])
            return await self._replace(version.path, Origin(), "restore", current, target, data)

    # ── what the Files panel and the tool cards show ────────────────────────────────────────
    async def files(self) -> dict[str, Any]:
        listed, truncated = await anyio.to_thread.run_sync(
            version_files.list_files, self.workspace_dir
        )
        latest = await self.index.latest_by_path()
        entries: list[dict[str, Any]] = []
        for item in listed:
            last = latest.pop(item.path, None)
            entry: dict[str, Any] = {
                "path": item.path,
                "exists": True,
                "size": item.size,
                "modified": item.modified,
                "versioned": last is not None,
                "changed_outside": False,
            }
            if last is not None:
                current = await self._snapshot(item.path)
                entry["changed_outside"] = current.state.hash != last.after.hash
            entries.append(entry)
        for path, last in sorted(latest.items()):  # known to Gatehouse, gone from the disk
            if last.after.exists and len(entries) < version_files.MAX_LISTED_FILES:
                entries.append(
                    {"path": path, "exists": False, "size": None, "modified": None,
                     "versioned": True, "changed_outside": True}
                )  # fmt: skip
        return {"files": entries, "truncated": truncated}

    async def history(self, path: str) -> dict[str, Any]:
        shown = normalise_relative(path)
        rows = await self.index.of_path(shown)
        current = await self._snapshot(shown)
        changed = bool(rows) and rows[0].after.hash != current.state.hash
        return {
            "path": shown,
            "current": current.state.as_json(),
            "changed_outside": changed,
            "versions": await self.as_json(rows),
        }

    async def as_json(self, rows: Sequence[Version]) -> list[dict[str, Any]]:
        ids = {r.origin.conversation_id for r in rows if r.origin.conversation_id}
        titles = await self.index.titles(ids) if ids else {}
        return [_version_json(r, titles) for r in rows]

    async def content(self, version_id: int, side: Side) -> bytes:
        version = await self.index.get(version_id)
        if version is None:
            raise VersionRefused("version_not_found", "There is no such version.")
        data = await self._content_of(version.before if side == "before" else version.after)
        return data or b""

    async def current_content(self, path: str) -> bytes | None:
        """The file's bytes now; None when there is none; too large is refused."""
        current = await self._snapshot(normalise_relative(path))
        if current.state.exists and not current.state.kept:
            raise VersionRefused("too_large_to_keep", _too_large_text(path, self.max_bytes))
        return current.data

    # ── retention ───────────────────────────────────────────────────────────────────────────
    async def sweep(self) -> int:
        """Apply the retention limits everywhere and delete every blob no row refers to; the
        number of blobs deleted."""
        async with self._lock:
            await self._prune(None)
            names = set(await anyio.to_thread.run_sync(lambda: list(self.blobs.names())))
            orphans = names - await self.index.referenced(names)
            await anyio.to_thread.run_sync(_delete_all, self.blobs, orphans)
        if orphans:
            log.info("versions_pruned", blobs=len(orphans))
        return len(orphans)

    async def _prune(self, path: str | None) -> None:
        """With the lock held: drop the rows past the limits, then the blobs they alone used."""
        older_than = time.time() - self.retention.max_age_s if self.retention.max_age_s else None
        names = await self.index.prune(
            older_than=older_than if path is None else None,
            keep_per_path=self.retention.per_path,
            path=path,
        )
        if names:
            gone = names - await self.index.referenced(names)
            await anyio.to_thread.run_sync(_delete_all, self.blobs, gone)

    # ── parts ───────────────────────────────────────────────────────────────────────────────
    async def _undo(self, rows: Sequence[Version], source: Source) -> list[Version]:
        if not rows:
            raise VersionRefused("nothing_to_undo", "This call changed no file.")
        active = [r for r in rows if r.undone_by is None]
        if not active:
            raise VersionRefused("already_undone", "These changes are already undone.")
        chains: dict[str, list[Version]] = {}
        for row in sorted(active, key=lambda r: r.id):
            chains.setdefault(row.path, []).append(row)
        async with self._lock:
            plans: list[tuple[list[Version], Snapshot, bytes | None]] = []
            conflicts: list[Conflict] = []
            for path, chain in chains.items():
                data = await self._content_of(chain[0].before)
                current = await self._snapshot(path)
                if current.state.hash != chain[-1].after.hash:
                    conflicts.append(Conflict(path, chain[-1].after, current.state))
                plans.append((chain, current, data))
            if conflicts:
                paths = ", ".join(c.path for c in conflicts)
                raise VersionRefused("changed_since", _changed_text(paths), conflicts)
            done: list[Version] = []
            for chain, current, data in plans:
                last = chain[-1]
                row = await self._replace(
                    last.path, last.origin, source, current, chain[0].before, data
                )
                await self.index.mark_undone([r.id for r in chain], row.id)
                done.append(row)
            return done

    async def _replace(
        self,
        path: str,
        origin: Origin,
        source: Source,
        current: Snapshot,
        target: FileState,
        data: bytes | None,
    ) -> Version:
        """With the lock held: keep what is there, put `data` in its place, record it."""
        await self._keep(current)
        await anyio.to_thread.run_sync(version_files.replace, self.workspace_dir, path, data)
        # the file is replaced: its record lands even if the caller is cancelled meanwhile
        row = await asyncio.shield(self._record(path, origin, source, current.state, target))
        log.info("file_version_applied", path=path, source=source, version=row.id)
        return row

    async def _record(
        self, path: str, origin: Origin, source: Source, before: FileState, after: FileState
    ) -> Version:
        row = await self.index.add(path, origin, source, before, after)
        await self._prune(path)
        return row

    async def _content_of(self, state: FileState) -> bytes | None:
        """The bytes of a kept state (None: no file); refused when they are not kept."""
        if state.hash is None:
            return None
        if not state.kept:
            raise VersionRefused("too_large_to_keep", _too_large_text("the file", self.max_bytes))
        name = state.hash
        try:
            return await anyio.to_thread.run_sync(self.blobs.get, name)
        except FileNotFoundError:
            raise VersionRefused("not_kept", "That version is no longer kept.") from None

    async def _snapshot(self, path: str) -> Snapshot:
        return await anyio.to_thread.run_sync(
            version_files.snapshot, self.workspace_dir, path, self.max_bytes
        )

    async def _keep(self, snapshot: Snapshot) -> None:
        if snapshot.data is not None:
            await anyio.to_thread.run_sync(self.blobs.put, snapshot.data)

    def _keep_bytes(self, data: bytes) -> FileState:
        if len(data) > self.max_bytes:
            return FileState(digest(data), len(data), False)
        return FileState(self.blobs.put(data), len(data), True)


def open_versions(settings: Settings, store: Store) -> FileVersions:
    """The app's keeper: blobs under DATA_DIR/versions (outside the workspace: settings.py)."""
    workspace = workspace_root(settings.workspace_dir)
    blob_root = Path(os.path.realpath(settings.data_dir)) / "versions"
    days, per_file = settings.versions_keep_days, settings.versions_keep_per_file
    retention = Retention(days * 86_400 if days else None, per_file or None)
    return FileVersions(
        workspace, BlobStore(blob_root), VersionIndex(store), settings.version_max_bytes, retention
    )


async def keep_pruning(versions: FileVersions) -> None:
    """Apply the retention limits every `SWEEP_EVERY_S` (the app sweeps once before serving)."""
    while True:
        await anyio.sleep(SWEEP_EVERY_S)
        try:
            await versions.sweep()
        except Exception:  # the next sweep tries again; the chat goes on meanwhile
            log.exception("versions_sweep_failed")


def _origin_of(meta: Mapping[str, Any] | None) -> Origin:
    raw = (meta or {}).get(ORIGIN_META_KEY)
    if raw is None:
        return Origin()
    try:
        value = _OriginMeta.model_validate(raw)
    except ValidationError:
        log.warning("file_version_origin_invalid")
        return Origin()
    return Origin(value.conversation_id, value.turn, value.tool_use_id)


def _version_json(row: Version, titles: Mapping[str, str]) -> dict[str, Any]:
    conversation = row.origin.conversation_id
    return {
        "id": row.id,
        "path": row.path,
        "source": row.source,
        "conversation_id": conversation,
        "conversation_title": titles.get(conversation) if conversation else None,
        "turn": row.origin.turn,
        "tool_use_id": row.origin.tool_use_id,
        "before": row.before.as_json(),
        "after": row.after.as_json(),
        "created_at": row.created_at,
        "undone_by": row.undone_by,
    }


def _delete_all(blobs: BlobStore, names: set[str]) -> None:
    for name in names:
        blobs.delete(name)


def _changed_text(paths: str) -> str:
    return f"{paths} changed since Gatehouse wrote it; nothing was overwritten. Compare first."


def _too_large_text(path: str, limit: int) -> str:
    return f"{path} was larger than {limit} bytes, so that version was not kept."
