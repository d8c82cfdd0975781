"""The turn loop: stream from Claude → ask approval → run the tool → send results → resume.

A turn answers one user message (`reply`), or picks up a round of tool calls that was waiting
for approval when the server stopped (`resume`). It always ends with
`status_update {ai_typing: false}` then `assistant_message_completed {reason}`.

Every tool call is stored as it moves: refused | pending → approved | denied | timeout |
expired → running → ok | error | cancelled | interrupted. Its final state carries the
`tool_result` Claude gets, so a round can be finished after a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, cast

import structlog

from gatehouse import metrics, protocol
from gatehouse.chunk_relay import ChunkRelay
from gatehouse.errors import GatehouseError, ModelError
from gatehouse.history_repair import (
    PreparedReply,
    for_claude,
    open_tool_uses,
    prepare_reply,
    unanswered_result,
)
from gatehouse.llm import Claude, JsonDict
from gatehouse.session import Session, TurnRunner
from gatehouse.store import StoredToolCall
from gatehouse.tool_hub import ToolHub, ToolInfo

log = structlog.get_logger(__name__)

Reason = Literal["ok", "error", "cancelled"]

DENIED_TEXT = "The tool call was denied by the user; it did not run."
TIMEOUT_TEXT = "The user did not answer in time, so the tool call was denied; it did not run."
EXPIRED_TEXT = "The approval expired before the user answered; the tool call did not run."
CANCELLED_TEXT = "The user stopped the reply; this tool call did not complete."
INTERRUPTED_TEXT = "The server restarted while this tool call ran; it may not have completed."
FAILED_TEXT = "[tool_error] Gatehouse failed while handling this call; it may not have run."
ABANDONED_TEXT = "This call was never decided (its turn ended early); it did not run."
FINAL = frozenset(
    {"refused", "denied", "timeout", "expired", "ok", "error", "cancelled", "interrupted"}
)


@dataclass
class _Call:
    use: JsonDict
    status: str
    result: JsonDict | None = None

    @property
    def id(self) -> str:
        return self.use["id"]


@dataclass(frozen=True)
class Turns:
    claude: Claude
    tools: ToolHub
    approval_timeout_s: float

    async def reply(self, session: Session, text: str) -> None:
        async def first_round() -> None:
            await _close_open_round(session)
            saving = session.add_user_text(text)
            session.emit_status(ai_typing=True)
            try:
                await self._converse(session)
            finally:
                await saving  # the person's message is stored before the turn ends

        await self._run(session, first_round)

    def resumer(self, session: Session, stored: list[StoredToolCall]) -> TurnRunner:
        """A turn that finishes a round of tool calls stored before a restart.

        The pending approvals are reopened now, before any client attaches, so the first
        client to come back is sent their tool_request frames.
        """
        uses = open_tool_uses(session.history)
        calls = self._restore_calls(session, uses, stored)

        async def resumed_round(_session: Session) -> None:
            if not calls:  # the round was answered before the stop: nothing to finish
                log.info("nothing_to_resume", session_id=session.id)
                return

            async def body() -> None:
                await self._finish_round(session, calls)
                session.emit_status(ai_typing=True)
                await self._converse(session)

            await self._run(session, body)

        return resumed_round

    async def _run(self, session: Session, body: Callable[[], Awaitable[None]]) -> None:
        structlog.contextvars.bind_contextvars(session_id=session.id)
        reason: Reason = "ok"
        try:
            await body()
        except ModelError as err:
            reason = "error"
            log.warning("model_error", code=err.code, status=err.status, request_id=err.request_id)
            session.emit_error(err)
        except asyncio.CancelledError:
            if not session.cancel_requested:
                raise  # the server is stopping: stored state is left for the next start
            reason = "cancelled"
            _uncancel()
        except Exception:
            reason = "error"
            log.exception("turn_failed")
            session.emit_error(GatehouseError("internal_error"))
        finally:
            session.approvals.clear()
            session.pending_requests.clear()
        session.emit_status(ai_typing=False)
        if session.busy_signalled:
            session.busy_signalled = False
            session.emit_status(busy=False)
        session.emit(
            protocol.AssistantMessageCompleted(
                data=protocol.AssistantMessageCompletedData(reason=reason)
            )
        )

    async def _converse(self, session: Session) -> None:
        while True:
            reply = await self._stream(session)
            uses = reply.tool_uses()
            if not uses:
                return
            session.emit_status(ai_typing=False)  # the person has the floor
            calls: list[_Call] = []
            try:
                for position, use in enumerate(uses):
                    calls.append(await self._screen(session, position, use, reply.refused))
                await self._finish_round(session, calls)
            except asyncio.CancelledError:
                if session.cancel_requested:
                    await _answer_every_use(session, uses, calls, "cancelled", CANCELLED_TEXT)
                raise  # a stopping server leaves the round to the next start
            except Exception:
                await _answer_every_use(session, uses, calls, "error", FAILED_TEXT)
                raise
            session.emit_status(ai_typing=True)

    async def _stream(self, session: Session) -> PreparedReply:
        partial: list[str] = []

        def on_text(text: str) -> None:
            partial.append(text)
            session.emit_text(text)

        sent = for_claude(session.history)
        if sent.changes:  # a history this app wrote needs none: worth a look when it happens
            log.warning("history_repaired_for_claude", changes=sent.changes)
        try:
            reply = await self.claude.stream_reply(
                sent.messages, self.tools.tools_for_claude(), on_text
            )
        except asyncio.CancelledError:
            if partial:  # keep what the person already saw, marked as stopped
                message = {"role": "assistant", "content": [_text_block("".join(partial))]}
                await session.add_message(message, stopped=True)
            raise
        content = [b for b in reply.content if not (b.get("type") == "text" and not b["text"])]
        prepared = prepare_reply(content, session.history)
        if prepared.content:
            await session.add_message({"role": "assistant", "content": prepared.content})
        return prepared

    # ── one round of tool calls ─────────────────────────────────────────────────────────────
    def _absent_tool(self, session: Session, use: JsonDict) -> str:
        """Why a call to a tool the hub does not offer now is refused (Claude is told)."""
        name: str = use["name"]
        server = self.tools.unavailable_server(name)
        if server is None:
            return f"Unknown tool {name!r}."
        session.emit_error(GatehouseError("server_unavailable"), tool_use_id=use["id"])
        return f"[server_unavailable] The MCP server {server!r} is down; {name!r} did not run."

    async def _screen(
        self, session: Session, position: int, use: JsonDict, refused: dict[str, str]
    ) -> _Call:
        """Refuse what must never reach the person; ask about the rest."""
        name: str = use["name"]
        info = self.tools.lookup(name)
        preview = self._preview(use) if info is not None else None
        # A call whose id had to be replaced is not the call Claude meant: it never runs.
        refusal = refused.get(use["id"]) or self._refusal(session, use, info, preview)
        if refusal is not None or info is None:
            call = _Call(use, "refused", _result(use["id"], refusal or "Unknown tool.", True))
            await _save(session, position, call, None, None)
            return call
        expires_at = time.time() + self.approval_timeout_s
        request = protocol.ToolRequest(
            data=protocol.ToolRequestData(
                id=use["id"],
                name=name,
                input=use["input"],
                server=info.server,
                preview=protocol.FilePreview(**preview) if preview else None,
            )
        )
        call = _Call(use, "pending")
        # Stored before the person can see it, so an answer can never outlive its record.
        await _save(session, position, call, request.data.model_dump_json(), expires_at)
        session.approvals.ask(use["id"], expires_at)
        session.pending_requests[use["id"]] = session.emit(request)
        return call

    def _refusal(
        self, session: Session, use: JsonDict, info: ToolInfo | None, preview: JsonDict | None
    ) -> str | None:
        if info is None:
            return self._absent_tool(session, use)
        if errors := self.tools.validate_input(use["name"], use.get("input")):
            return "Invalid input: " + "; ".join(errors)  # Claude fixes its own input
        if preview is not None and not preview["valid_path"]:
            session.emit_error(GatehouseError("invalid_path"), tool_use_id=use["id"])
            return f"invalid_path: {preview.get('problem') or 'outside the workspace'}"
        return None

    def _preview(self, use: JsonDict) -> JsonDict | None:
        tool_input: object = use.get("input")
        if not isinstance(tool_input, dict):
            return None
        return self.tools.preview(use["name"], cast(JsonDict, tool_input))

    def _restore_calls(
        self, session: Session, uses: list[JsonDict], stored: list[StoredToolCall]
    ) -> list[_Call]:
        rows = {row.id: row for row in stored}
        calls: list[_Call] = []
        now = time.time()
        for use in uses:
            row = rows.get(use["id"])
            if row is None or row.status in ("approved", "running"):
                calls.append(_Call(use, "interrupted"))
            elif row.status != "pending":
                calls.append(_Call(use, row.status, row.result))
            elif row.expires_at is not None and row.expires_at <= now:
                calls.append(_Call(use, "expired"))
            elif row.request_frame is None:
                calls.append(_Call(use, "interrupted"))
            else:
                session.approvals.ask(use["id"], row.expires_at or now + self.approval_timeout_s)
                data = protocol.ToolRequestData.model_validate_json(row.request_frame)
                frame = protocol.ToolRequest(data=data, seq=session.seq)
                session.pending_requests[use["id"]] = protocol.encode(frame)
                calls.append(_Call(use, "pending"))
        return calls

    async def _finish_round(self, session: Session, calls: list[_Call]) -> None:
        """Decide and run every call in order; then all results go to Claude in one turn."""
        try:
            for call in calls:
                await self._settle(session, call)
        except asyncio.CancelledError:
            if not session.cancel_requested:
                raise  # stopping the server: pending calls stay pending for the next start
            for call in calls:
                if call.result is None:
                    call.status, call.result = "cancelled", _result(call.id, CANCELLED_TEXT, True)
                    await _update(session, call)
            await session.add_message({"role": "user", "content": [c.result for c in calls]})
            raise
        await session.add_message({"role": "user", "content": [c.result for c in calls]})

    async def _settle(self, session: Session, call: _Call) -> None:
        if call.status in FINAL and call.result is not None:
            return
        if call.status in ("interrupted", "expired"):
            expired = call.status == "expired"
            code = "approval_expired" if expired else "tool_interrupted"
            session.emit_error(GatehouseError(code), tool_use_id=call.id)
            call.result = _result(call.id, EXPIRED_TEXT if expired else INTERRUPTED_TEXT, True)
            await _update(session, call)
            return
        decision = await session.approvals.wait(call.id)
        session.pending_requests.pop(call.id, None)
        info = self.tools.lookup(call.use["name"])
        log.info("tool_decision", tool_use_id=call.id, decision=decision)
        if decision == "denied":
            call.status, call.result = "denied", _result(call.id, DENIED_TEXT, True)
        elif decision == "timeout":
            session.emit_error(GatehouseError("approval_timeout"), tool_use_id=call.id)
            call.status, call.result = "timeout", _result(call.id, TIMEOUT_TEXT, True)
        elif info is None:  # approved, but its server went away meanwhile
            call.status = "error"
            call.result = _result(call.id, self._absent_tool(session, call.use), True)
        else:
            call.status = "running"
            await _update(session, call)
            call.result = await self._run_tool(session, call.use, info)
            call.status = "error" if call.result.get("is_error") else "ok"
        await _update(session, call)

    async def _run_tool(self, session: Session, use: JsonDict, info: ToolInfo) -> JsonDict:
        tool_use_id: str = use["id"]
        relay = _relay(session, use, info)
        session.emit_status(tool_running=True, file_path=_file_path(use, info))
        started = time.perf_counter()
        try:
            outcome = await self.tools.call(
                use["name"], use["input"], relay.on_progress if relay else _ignore_progress
            )
            if relay and not outcome.is_error:
                relay.finish()
        finally:
            session.emit_status(tool_running=False)
            metrics.TOOL_DURATION.labels(tool=info.claude_name).observe(
                time.perf_counter() - started
            )
        code = outcome.code or ("tool_error" if outcome.is_error else "ok")
        metrics.TOOL_CALLS_TOTAL.labels(tool=info.claude_name, outcome=code).inc()
        if outcome.is_error:
            log.warning("tool_failed", tool_use_id=tool_use_id, code=code, message=outcome.message)
            session.emit_error(GatehouseError(code), tool_use_id=tool_use_id)
        elif relay:
            metrics.TOOL_BYTES_WRITTEN_TOTAL.inc(relay.total)
        result: JsonDict = {"type": "tool_result", "tool_use_id": tool_use_id}
        result["content"] = outcome.content
        if outcome.is_error:
            result["is_error"] = True
        return result


async def _save(
    session: Session, position: int, call: _Call, frame: str | None, expires_at: float | None
) -> None:
    row = StoredToolCall(
        id=call.id,
        position=position,
        name=call.use["name"][:64],  # the column's width; Claude's names are shorter
        status=call.status,
        request_frame=frame,
        result=call.result,
        expires_at=expires_at,
    )
    await session.store.save_tool_call(session.id, row)


async def _update(session: Session, call: _Call) -> None:
    await session.store.update_tool_call(
        session.id, call.id, status=call.status, result=call.result
    )


async def _answer_every_use(
    session: Session, uses: list[JsonDict], calls: list[_Call], status: str, text: str
) -> None:
    """After a round failed or was stopped half-way: every use gets a result, stored, so the
    history stays valid for Claude. Called while an exception propagates, so store failures
    are logged, not raised (the message is in the history in memory either way)."""
    if session.history and session.history[-1]["role"] == "user":
        return  # the round's results were added before it failed
    screened = {call.id: call for call in calls}
    unsettled = [call for call in calls if call.result is None]
    for call in unsettled:
        call.status, call.result = status, _result(call.id, text, True)
    results: list[JsonDict] = []
    for use in uses:  # a use never screened (the failure came first) is answered here
        call = screened.get(use["id"])
        results.append(call.result if call and call.result else _result(use["id"], text, True))
    try:
        await session.add_message({"role": "user", "content": results})
        for call in unsettled:
            await _update(session, call)
    except Exception:
        log.exception("round_results_not_stored")


async def _close_open_round(session: Session) -> None:
    """Answer the tool calls of a round an earlier turn left open (it failed, or the server
    stopped before their rows were written), before the person's new message."""
    uses = open_tool_uses(session.history)
    if not uses:
        return
    log.warning("open_round_closed", tool_use_ids=[use["id"] for use in uses])
    results = [unanswered_result(use["id"], ABANDONED_TEXT) for use in uses]
    await session.add_message({"role": "user", "content": results})
    for use in uses:
        await session.store.update_tool_call(
            session.id,
            use["id"],
            status="interrupted",
            result=unanswered_result(use["id"], ABANDONED_TEXT),
            only_if=("pending", "approved", "running"),
        )


def _relay(session: Session, use: JsonDict, info: ToolInfo) -> ChunkRelay | None:
    """Relays the text a built-in tool writes, for a tool whose entry names such a field."""
    field = info.streamed_field
    text: object = use["input"].get(field) if field else None
    return ChunkRelay(session, use["id"], text) if isinstance(text, str) else None


def _file_path(use: JsonDict, info: ToolInfo) -> str | None:
    path: object = use["input"].get(info.path_field) if info.path_field else None
    return path if isinstance(path, str) else None


async def _ignore_progress(_progress: float, _total: float | None, _msg: str | None) -> None:
    return None


def _text_block(text: str) -> JsonDict:
    return {"type": "text", "text": text}


def _result(tool_use_id: str, text: str, is_error: bool) -> JsonDict:
    block: JsonDict = {
        "type": "tool_result",
        "tool_use_id": tool_use_id,
        "content": [_text_block(text)],
    }
    if is_error:
        block["is_error"] = True
    return block


def _uncancel() -> None:
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
