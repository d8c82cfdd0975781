"""HTTP routes of file versions: the Files panel and the tool cards' undo.

Every route is under /api, so the Host, Origin and token checks of every other route apply.
Paths go through `safe_paths`; a blob is reached only through a version's row, never by a
name from the request. A refusal is `{"detail": {"code", "message", "conflicts"?}}` with 409
(404 when there is nothing of that id), and nothing on disk has changed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gatehouse.api import require_token
from gatehouse.file_versions import FileVersions, Side, VersionRefused
from gatehouse.files_api_models import FileHistoryOut, FileListOut, Refusal, VersionsOut
from gatehouse.safe_paths import MAX_PATH_BYTES, InvalidPath
from gatehouse.settings import Settings

_NOT_FOUND = frozenset({"version_not_found", "nothing_to_undo", "nothing_to_redo"})
_PATH = Annotated[str, Query(min_length=1, max_length=MAX_PATH_BYTES)]
_REFUSALS: dict[int | str, dict[str, Any]] = {
    status: {"model": Refusal} for status in (400, 404, 409)
}
# Shown as text, never run: a file Claude wrote must not become a page of this origin.
_CONTENT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "no-store",
}


class UndoRequest(BaseModel):
    tool_use_id: str = Field(min_length=1, max_length=200)
    scope: Literal["call", "turn"] = "call"


class RedoRequest(BaseModel):
    tool_use_id: str = Field(min_length=1, max_length=200)


class RestoreRequest(BaseModel):
    side: Side = "after"
    expected_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


def files_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/api")
    token = settings.auth_token.get_secret_value() if settings.auth_token else None

    def versions(request: Request) -> FileVersions:
        require_token(request, token)
        return request.app.state.versions

    @router.get("/files", response_model=FileListOut)
    async def list_files(request: Request) -> dict[str, Any]:
        return await versions(request).files()

    @router.get("/files/history", response_model=FileHistoryOut, responses=_REFUSALS)
    async def file_history(request: Request, path: _PATH) -> dict[str, Any] | JSONResponse:
        keeper = versions(request)
        try:
            return await keeper.history(path)
        except InvalidPath as exc:
            return _refused(exc)

    @router.get("/files/current", response_model=None, responses=_REFUSALS)
    async def current_content(
        request: Request, path: _PATH, download: bool = False
    ) -> Response | JSONResponse:
        keeper = versions(request)
        try:
            data = await keeper.current_content(path)
        except (InvalidPath, VersionRefused) as exc:
            return _refused(exc)
        if data is None:
            raise HTTPException(404, detail={"code": "no_file", "message": "There is no file."})
        return _content(data, path, download)

    @router.get("/files/versions/{version_id}/content", response_model=None, responses=_REFUSALS)
    async def version_content(
        request: Request, version_id: int, side: Side = "after", download: bool = False
    ) -> Response | JSONResponse:
        keeper = versions(request)
        try:
            version = await keeper.index.get(version_id)
            data = await keeper.content(version_id, side)
        except VersionRefused as exc:
            return _refused(exc)
        return _content(data, version.path if version else "file", download)

    @router.post(
        "/files/versions/{version_id}/restore", response_model=VersionsOut, responses=_REFUSALS
    )
    async def restore(
        request: Request, version_id: int, body: RestoreRequest
    ) -> dict[str, Any] | JSONResponse:
        keeper = versions(request)
        try:
            row = await keeper.restore(version_id, body.side, body.expected_hash)
        except (InvalidPath, VersionRefused) as exc:
            return _refused(exc)
        return {"versions": await keeper.as_json([row])}

    @router.get("/conversations/{conversation_id}/file-changes", response_model=VersionsOut)
    async def file_changes(request: Request, conversation_id: str) -> dict[str, Any]:
        keeper = versions(request)
        rows = await keeper.index.of_conversation(conversation_id)
        return {"versions": await keeper.as_json(rows)}

    @router.post(
        "/conversations/{conversation_id}/undo", response_model=VersionsOut, responses=_REFUSALS
    )
    async def undo(
        request: Request, conversation_id: str, body: UndoRequest
    ) -> dict[str, Any] | JSONResponse:
        keeper = versions(request)
        try:
            if body.scope == "turn":
                rows = await keeper.undo_turn(conversation_id, body.tool_use_id)
            else:
                rows = await keeper.undo_call(conversation_id, body.tool_use_id)
        except (InvalidPath, VersionRefused) as exc:
            return _refused(exc)
        return {"versions": await keeper.as_json(rows)}

    @router.post(
        "/conversations/{conversation_id}/redo", response_model=VersionsOut, responses=_REFUSALS
    )
    async def redo(
        request: Request, conversation_id: str, body: RedoRequest
    ) -> dict[str, Any] | JSONResponse:
        keeper = versions(request)
        try:
            rows = await keeper.redo_call(conversation_id, body.tool_use_id)
        except (InvalidPath, VersionRefused) as exc:
            return _refused(exc)
        return {"versions": await keeper.as_json(rows)}

    return router


def _refused(exc: VersionRefused | InvalidPath) -> JSONResponse:
    if isinstance(exc, InvalidPath):
        detail = {"code": "invalid_path", "message": exc.reason}
        return JSONResponse({"detail": detail}, status_code=400)
    detail: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.conflicts:
        detail["conflicts"] = [conflict.as_json() for conflict in exc.conflicts]
    status = 404 if exc.code in _NOT_FOUND else 409
    return JSONResponse({"detail": detail}, status_code=status)


def _content(data: bytes, path: str, download: bool) -> Response:
    headers = dict(_CONTENT_HEADERS)
    if download:
        name = path.rsplit("/", 1)[-1]
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
    return Response(data, media_type="text/plain; charset=utf-8", headers=headers)
