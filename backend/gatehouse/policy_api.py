"""HTTP routes for the rules (the Rules page) and the audit trail (the Activity view).

    GET    /api/rules[?q=]          every rule in force, with how many calls it decided
    POST   /api/rules               add a rule (source `settings`)
    DELETE /api/rules/{id}          revoke it (409 for a policy-file rule)
    GET    /api/audit               decisions, newest first, filterable and paged;
                                    `?format=jsonl` or `csv` exports every match

Behind the same Host, Origin and token checks as the rest of /api.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from gatehouse.api import require_token
from gatehouse.policy import Policy
from gatehouse.policy_store import AUDIT_FILTERS, RuleUse
from gatehouse.rules import Condition, Rule, RuleSpec
from gatehouse.settings import Settings

MAX_AUDIT_PAGE = 500
NEXT_CURSOR_HEADER = "X-Next-Cursor"
_CSV_COLUMNS = (
    "id",
    "at",
    "conversation_id",
    "tool_use_id",
    "server",
    "tool",
    "decision",
    "decided_by",
    "rule_id",
    "reason",
    "latency_s",
    "outcome",
    "input",
    "edited_input",
)


class RuleView(BaseModel):
    id: str
    effect: str
    server: str
    tool: str
    conditions: list[Condition]
    note: str
    label: str
    conversation_id: str | None
    source: str
    created_at: datetime
    removable: bool  # a policy-file rule is changed in its file only
    decided: int  # calls it decided
    last_used_at: datetime | None


class NewRule(RuleSpec):
    conversation_id: Annotated[str | None, Field(min_length=1, max_length=64)] = None


def policy_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/api")
    token = settings.auth_token.get_secret_value() if settings.auth_token else None

    def guard(request: Request) -> Policy:
        require_token(request, token)
        return request.app.state.policy

    @router.get("/rules")
    async def list_rules(
        request: Request, q: Annotated[str, Query(max_length=200)] = ""
    ) -> list[RuleView]:
        policy = guard(request)
        uses = await policy.uses()
        views = [_view(rule, uses.get(rule.id)) for rule in policy.rules()]
        needle = q.strip().lower()
        return [view for view in views if not needle or needle in _haystack(view)]

    @router.post("/rules", status_code=201)
    async def add_rule(request: Request, body: NewRule) -> RuleView:
        policy = guard(request)
        spec = RuleSpec.model_validate(body.model_dump(exclude={"conversation_id"}))
        rule = await policy.add(spec, "settings", body.conversation_id)
        return _view(rule, None)

    @router.delete("/rules/{rule_id}", status_code=204)
    async def revoke_rule(request: Request, rule_id: str) -> None:
        policy = guard(request)
        match await policy.revoke(rule_id):
            case "revoked":
                return
            case "not_found":
                raise HTTPException(status_code=404, detail="rule not found")
            case "policy_file":
                raise HTTPException(status_code=409, detail="this rule is set in POLICY_FILE")

    @router.get("/audit", response_model=None)
    async def audit(
        request: Request,
        response: Response,
        limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)] = 50,
        cursor: Annotated[int | None, Query(ge=1)] = None,
        format: Literal["json", "jsonl", "csv"] = "json",
        conversation_id: Annotated[str | None, Query(max_length=64)] = None,
        server: Annotated[str | None, Query(max_length=64)] = None,
        tool: Annotated[str | None, Query(max_length=128)] = None,
        decision: Literal["allowed", "denied", "expired"] | None = None,
        decided_by: Literal["person", "rule", "timeout", "expiry"] | None = None,
        rule_id: Annotated[str | None, Query(max_length=64)] = None,
    ) -> list[dict[str, Any]] | StreamingResponse:
        policy = guard(request)
        given = {
            "conversation_id": conversation_id,
            "server": server,
            "tool": tool,
            "decision": decision,
            "decided_by": decided_by,
            "rule_id": rule_id,
        }
        filters = {k: v for k, v in given.items() if v is not None and k in AUDIT_FILTERS}
        if format != "json":
            return _export(policy, filters, format)
        rows = await policy.store.audit(filters, limit + 1, before=cursor)
        if len(rows) > limit:
            rows = rows[:limit]
            response.headers[NEXT_CURSOR_HEADER] = str(rows[-1]["id"])
        return [_audit_row(row) for row in rows]

    return router


def _export(
    policy: Policy,
    filters: dict[str, str],
    format: Literal["jsonl", "csv"],
) -> StreamingResponse:
    async def pages() -> AsyncIterator[list[dict[str, Any]]]:
        before: int | None = None
        while rows := await policy.store.audit(filters, MAX_AUDIT_PAGE, before=before):
            yield [_audit_row(row) for row in rows]
            before = rows[-1]["id"]

    async def jsonl() -> AsyncIterator[bytes]:
        async for page in pages():
            yield b"".join(orjson.dumps(row) + b"\n" for row in page)

    async def as_csv() -> AsyncIterator[str]:
        yield ",".join(_CSV_COLUMNS) + "\r\n"
        async for page in pages():
            out = io.StringIO()
            writer = csv.writer(out)
            for row in page:
                cells: dict[str, Any] = {**row, **_json_cells(row)}
                writer.writerow([cells.get(column, "") for column in _CSV_COLUMNS])
            yield out.getvalue()

    if format == "jsonl":
        return StreamingResponse(jsonl(), media_type="application/x-ndjson")
    headers = {"Content-Disposition": 'attachment; filename="audit.csv"'}
    return StreamingResponse(as_csv(), media_type="text/csv", headers=headers)


def _json_cells(row: dict[str, Any]) -> dict[str, str]:
    """Inputs as JSON text; a cell starting like a formula is quoted for spreadsheets."""
    cells = {
        k: orjson.dumps(row[k]).decode() if row[k] is not None else ""
        for k in ("input", "edited_input")
    }
    for key in ("reason", "tool", "server", "conversation_id", "tool_use_id"):
        value = row.get(key)
        if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            cells[key] = "'" + value
    return cells


def _audit_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "at": datetime.fromtimestamp(row["at"], UTC).isoformat()}


def _view(rule: Rule, use: RuleUse | None) -> RuleView:
    spec = rule.spec
    return RuleView(
        id=rule.id,
        effect=spec.effect,
        server=spec.server,
        tool=spec.tool,
        conditions=list(spec.conditions),
        note=spec.note,
        label=rule.label,
        conversation_id=rule.conversation_id,
        source=rule.source,
        created_at=datetime.fromtimestamp(rule.created_at, UTC),
        removable=rule.source != "policy_file",
        decided=use.decided if use else 0,
        last_used_at=datetime.fromtimestamp(use.last_used_at, UTC)
        if use and use.last_used_at
        else None,
    )


def _haystack(view: RuleView) -> str:
    parts = [view.effect, view.server, view.tool, view.label, view.note, view.source, view.id]
    parts += [c.path_glob or c.equals or c.regex or "" for c in view.conditions]
    return " ".join(parts).lower()
