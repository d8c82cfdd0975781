"""HTTP routes under /api: the conversation list the sidebar shows, search, rename and pin,
export and import, attachments' bytes, and the models a conversation may pick.

The list is paged: pinned first, then newest first, `limit` rows at a time; when more follow,
the response has a `X-Next-Cursor` header to pass back as `?cursor=`. The cursor is the
(pinned, updated_at, id) of the page's last row, so a page never repeats or skips a row that
did not change meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import (
    BaseModel,
    ConfigDict,
    FiniteFloat,
    StrictBool,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from gatehouse.attachments import message_file
from gatehouse.history import ui_messages, usage_frame
from gatehouse.i18n import parse_locale
from gatehouse.model_list import ModelList
from gatehouse.sanitise import clean_text
from gatehouse.search import MAX_QUERY_CHARS
from gatehouse.search_query import SearchHit
from gatehouse.sessions import Sessions
from gatehouse.settings import Locale, Settings
from gatehouse.store import ListCursor, Store
from gatehouse.tool_call import ToolCallStatus
from gatehouse.transfer import ExportedConversation, to_json, to_markdown
from gatehouse.usage import Usage, total


class ConversationSummary(BaseModel):
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    pinned: bool = False


class ConversationChange(BaseModel):
    """What PATCH may change; a title is the person's from then on."""

    model_config = ConfigDict(extra="forbid")
    title: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    pinned: bool | None = None


class SnippetPartOut(BaseModel):
    text: str
    hit: bool


class SearchMatchOut(BaseModel):
    position: int  # the stored message's; -1 for the title
    snippet: list[SnippetPartOut]


class SearchResult(BaseModel):
    id: str
    title: str
    updated_at: datetime
    pinned: bool
    matches: list[SearchMatchOut]


class ConversationDetail(ConversationSummary):
    messages: list[dict[str, Any]]
    pending_tool_calls: list[str]
    usage: dict[str, Any] | None = None  # every reply's usage together (README, Usage and cost)


class ModelEntry(BaseModel):
    id: str
    display_name: str


class ModelsAnswer(BaseModel):
    models: list[ModelEntry]
    default: str  # ANTHROPIC_MODEL, a new conversation's model
    fallback: bool  # the API's list was unavailable: only the default is offered


def require_token(request: Request, token: str | None) -> None:
    """When a token is configured, ask for it as `Authorization: Bearer` or `?token=`."""
    if token is None:
        return
    header = request.headers.get("authorization", "")
    offered = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    offered = offered or request.query_params.get("token", "")
    if not hmac.compare_digest(offered.encode(), token.encode()):
        raise HTTPException(status_code=401, detail="unauthorized")


def conversations_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/api")
    token = settings.auth_token.get_secret_value() if settings.auth_token else None

    def guard(request: Request) -> tuple[Store, Sessions]:
        require_token(request, token)
        return request.app.state.store, request.app.state.sessions

    @router.get("/conversations")
    async def list_conversations(
        request: Request,
        response: Response,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> list[ConversationSummary]:
        store, _ = guard(request)
        after = _read_cursor(cursor) if cursor else None
        rows = await store.list_conversations(limit + 1, after=after)
        if len(rows) > limit:  # one more than asked: another page follows
            rows = rows[:limit]
            response.headers[NEXT_CURSOR_HEADER] = _cursor_of(rows[-1])
        return [_summary(row) for row in rows]

    @router.get("/conversations/{conversation_id}")
    async def get_conversation(request: Request, conversation_id: str) -> ConversationDetail:
        store, _ = guard(request)
        stored = await store.load_conversation(conversation_id)
        if stored is None:
            raise HTTPException(status_code=404, detail="conversation not found")
        pending = [call.id for call in stored.tool_calls if call.status == ToolCallStatus.PENDING]
        usage = [Usage.from_json(u) if u else None for u in stored.usage]
        spent = usage_frame(total(usage))
        return ConversationDetail(
            **_summary(stored.__dict__).model_dump(),
            messages=ui_messages(
                stored.history,
                stored.stopped,
                stored.tool_calls,
                usage,
                stored.attachments,
                stored.id,
                stored.stop_reasons,
                stored.hidden,
                positions=stored.positions,
                tree=stored.tree,
            ),
            pending_tool_calls=pending,
            usage=spent.model_dump(exclude_none=True) if spent else None,
        )

    @router.get("/conversations/{conversation_id}/messages/{position}/attachments/{index}")
    async def get_attachment(
        request: Request,
        conversation_id: Annotated[str, StringConstraints(max_length=64)],
        position: Annotated[int, Path(ge=0)],
        index: Annotated[int, Path(ge=0, le=100)],
    ) -> Response:
        store, _ = guard(request)
        message = await store.load_message(conversation_id, position)
        found = message_file(message, index) if message is not None else None
        if found is None:
            raise HTTPException(status_code=404, detail="attachment not found")
        raw, media_type = found
        return Response(raw, media_type=media_type, headers=ATTACHMENT_HEADERS)

    @router.patch("/conversations/{conversation_id}")
    async def change_conversation(
        request: Request, conversation_id: str, change: ConversationChange
    ) -> ConversationSummary:
        store, _ = guard(request)
        found = True
        if change.title is not None:
            found = await store.rename(conversation_id, clean_text(change.title))
        if found and change.pinned is not None:
            found = await store.set_pinned(conversation_id, change.pinned)
        stored = await store.load_conversation(conversation_id) if found else None
        if stored is None:
            raise HTTPException(status_code=404, detail="conversation not found")
        return _summary(stored.__dict__)

    @router.get("/search")
    async def search(
        request: Request,
        q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)],
        limit: Annotated[int, Query(ge=1, le=50)] = 20,
    ) -> list[SearchResult]:
        store, _ = guard(request)
        return [_search_result(hit) for hit in await store.search(q, limit)]

    @router.get("/conversations/{conversation_id}/export")
    async def export_conversation(
        request: Request,
        conversation_id: str,
        format: Literal["json", "markdown"] = "json",
        locale: Annotated[str | None, Query(max_length=16)] = None,
    ) -> Response:
        store, _ = guard(request)
        stored = await store.load_conversation(conversation_id)
        if stored is None:
            raise HTTPException(status_code=404, detail="conversation not found")
        name = f"gatehouse-{conversation_id[:12]}"
        if format == "markdown":
            speakers = SPEAKERS[parse_locale(locale, settings.default_locale)]
            return Response(
                to_markdown(stored, speakers),
                media_type="text/markdown; charset=utf-8",
                headers=_attachment(f"{name}.md"),
            )
        return Response(
            orjson.dumps(to_json(stored), option=orjson.OPT_INDENT_2),
            media_type="application/json",
            headers=_attachment(f"{name}.json"),
        )

    @router.post("/conversations/import", status_code=201)
    async def import_conversation(request: Request) -> ConversationSummary:
        store, _ = guard(request)
        body = await _read_bounded(request, settings.max_import_bytes)
        try:  # orjson: bounded nesting, and no lone surrogate gets in
            document = ExportedConversation.model_validate(orjson.loads(body))
        except orjson.JSONDecodeError:
            raise HTTPException(status_code=422, detail="invalid JSON") from None
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False, include_context=False)
            raise HTTPException(status_code=422, detail=errors[:10]) from None
        conversation_id = uuid.uuid4().hex
        history = document.history()
        await store.import_conversation(
            conversation_id,
            settings.default_locale,
            clean_text(document.title),
            document.pinned,
            history,
            [m.stopped for m in document.messages],
            document.calls(),
        )
        stored = await store.load_conversation(conversation_id)
        assert stored is not None
        return _summary(stored.__dict__)

    @router.delete("/conversations/{conversation_id}", status_code=204)
    async def delete_conversation(request: Request, conversation_id: str) -> None:
        _, sessions = guard(request)
        if not await sessions.delete(conversation_id):
            raise HTTPException(status_code=404, detail="conversation not found")

    return router


# The bytes were checked to be an image or a PDF; the browser must not guess otherwise, nor
# run anything a PDF carries, nor let another site embed them.
ATTACHMENT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "private, max-age=86400",
    "Cross-Origin-Resource-Policy": "same-site",
}


def models_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/api")
    token = settings.auth_token.get_secret_value() if settings.auth_token else None

    @router.get("/models")
    async def list_models(request: Request) -> ModelsAnswer:
        require_token(request, token)
        model_list: ModelList = request.app.state.models
        current = await model_list.current()
        return ModelsAnswer(
            models=[ModelEntry(id=m.id, display_name=m.display_name) for m in current.models],
            default=current.default,
            fallback=current.fallback,
        )

    return router


MAX_PAGE = 200
DEFAULT_PAGE = 50
NEXT_CURSOR_HEADER = "X-Next-Cursor"
_CURSOR = TypeAdapter(
    tuple[StrictBool, FiniteFloat, Annotated[str, StringConstraints(max_length=64)]]
)
SPEAKERS: dict[Locale, tuple[str, str]] = {"pt-BR": ("Você", "Claude"), "en": ("You", "Claude")}


def _cursor_of(row: dict[str, Any]) -> str:
    raw = orjson.dumps([bool(row["pinned"]), row["updated_at"], row["id"]])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


async def _read_bounded(request: Request, limit: int) -> bytes:
    """The request's body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(status_code=413, detail="too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(status_code=413, detail="too large")
    return bytes(body)


def _search_result(hit: SearchHit) -> SearchResult:
    return SearchResult(
        id=hit.id,
        title=hit.title,
        updated_at=datetime.fromtimestamp(hit.updated_at, UTC),
        pinned=hit.pinned,
        matches=[
            SearchMatchOut(
                position=match.position,
                snippet=[SnippetPartOut(text=p.text, hit=p.hit) for p in match.snippet],
            )
            for match in hit.matches
        ],
    )


def _read_cursor(cursor: str) -> ListCursor:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return _CURSOR.validate_json(raw)
    except (binascii.Error, ValueError, ValidationError):
        raise HTTPException(status_code=400, detail="invalid cursor") from None


def _summary(row: dict[str, Any]) -> ConversationSummary:
    return ConversationSummary(
        id=row["id"],
        title=row["title"],
        created_at=datetime.fromtimestamp(row["created_at"], UTC),
        updated_at=datetime.fromtimestamp(row["updated_at"], UTC),
        pinned=bool(row.get("pinned", False)),
    )
