"""The turn loop: stream from Claude → ask approval → run the tool → send results → resume.

One call of `Turns.run` answers one user message and always ends with
`status_update {ai_typing: false}` then `assistant_message_completed {reason}`.
"""

from __future__ import annotations

import asyncio
import codecs
import time
from dataclasses import dataclass
from typing import Literal

import structlog

from gatehouse import metrics, protocol
from gatehouse.approvals import Decision
from gatehouse.errors import GatehouseError, ModelError
from gatehouse.llm import Claude, JsonDict, Reply
from gatehouse.session import Session
from gatehouse.tool_hub import ToolHub, ToolInfo

log = structlog.get_logger(__name__)

Reason = Literal["ok", "error", "cancelled"]

DENIED_TEXT = "The tool call was denied by the user; it did not run."
TIMEOUT_TEXT = "The user did not answer in time, so the tool call was denied; it did not run."
CANCELLED_TEXT = "The user stopped the reply before this tool call ran."


@dataclass(frozen=True)
class Turns:
    claude: Claude
    tools: ToolHub

    async def run(self, session: Session, text: str) -> None:
        structlog.contextvars.bind_contextvars(session_id=session.id)
        session.append_user_text(text)
        session.emit_status(ai_typing=True)
        reason: Reason = "ok"
        try:
            await self._converse(session)
        except ModelError as err:
            reason = "error"
            log.warning("model_error", code=err.code, status=err.status, request_id=err.request_id)
            session.emit_error(err)
        except asyncio.CancelledError:
            if not session.cancel_requested:
                raise  # the session is closing: nobody is left to tell
            reason = "cancelled"
            _uncancel()
        except Exception:
            reason = "error"
            log.exception("turn_failed")
            session.emit_error(GatehouseError("internal_error"))
        finally:
            session.approvals.clear()
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
            results: list[JsonDict] = [_result(use["id"], CANCELLED_TEXT, True) for use in uses]
            session.emit_status(ai_typing=False)  # the person has the floor
            try:
                await self._answer_tool_uses(session, uses, results)
            finally:  # every tool_use gets its tool_result, even when the turn is stopped
                session.history.append({"role": "user", "content": results})
            session.emit_status(ai_typing=True)

    async def _stream(self, session: Session) -> Reply:
        partial: list[str] = []

        async def on_text(text: str) -> None:
            partial.append(text)
            session.emit(protocol.AiChunk(data=protocol.AiChunkData(text=text)))

        try:
            reply = await self.claude.stream_reply(
                session.history, self.tools.tools_for_claude(), on_text
            )
        except asyncio.CancelledError:
            if partial:  # keep what the person already saw
                session.history.append(
                    {"role": "assistant", "content": [{"type": "text", "text": "".join(partial)}]}
                )
            raise
        content = [b for b in reply.content if not (b.get("type") == "text" and not b["text"])]
        if content:
            session.history.append({"role": "assistant", "content": content})
        return reply

    # ── tools ───────────────────────────────────────────────────────────────────────────────
    async def _answer_tool_uses(
        self, session: Session, uses: list[JsonDict], results: list[JsonDict]
    ) -> None:
        """Validate every call, ask for the valid ones at once, then run them in order."""
        asked: list[tuple[int, JsonDict, ToolInfo]] = []
        for index, use in enumerate(uses):
            refusal, info = self._screen(session, use)
            if refusal is not None or info is None:
                results[index] = _result(use["id"], refusal or "Unknown tool.", True)
                continue
            asked.append((index, use, info))
        for index, use, info in asked:
            decision = await session.approvals.wait(use["id"])
            results[index] = await self._after_decision(session, use, info, decision)

    def _screen(self, session: Session, use: JsonDict) -> tuple[str | None, ToolInfo | None]:
        """Refuse what must never reach the person; ask about the rest. Returns the refusal."""
        name: str = use["name"]
        info = self.tools.lookup(name)
        if info is None:
            return f"Unknown tool {name!r}.", None
        errors = self.tools.validate_input(name, use.get("input"))
        if errors:  # Claude can fix its own input: straight back, the person is not asked
            return "Invalid input: " + "; ".join(errors), info
        preview = self.tools.preview(name, use["input"])
        if preview is not None and not preview["valid_path"]:
            session.emit_error(GatehouseError("invalid_path"), tool_use_id=use["id"])
            return f"invalid_path: {preview.get('problem') or 'path outside the workspace'}", info
        session.approvals.ask(use["id"])
        session.emit(
            protocol.ToolRequest(
                data=protocol.ToolRequestData(
                    id=use["id"],
                    name=name,
                    input=use["input"],
                    server=info.server,
                    preview=protocol.FilePreview(**preview) if preview else None,
                )
            )
        )
        return None, info

    async def _after_decision(
        self, session: Session, use: JsonDict, info: ToolInfo, decision: Decision
    ) -> JsonDict:
        log.info("tool_decision", tool_use_id=use["id"], tool=info.claude_name, decision=decision)
        if decision == "denied":
            return _result(use["id"], DENIED_TEXT, True)
        if decision == "timeout":
            session.emit_error(GatehouseError("approval_timeout"), tool_use_id=use["id"])
            return _result(use["id"], TIMEOUT_TEXT, True)
        return await self._run_tool(session, use, info)

    async def _run_tool(self, session: Session, use: JsonDict, info: ToolInfo) -> JsonDict:
        tool_use_id: str = use["id"]
        relay = _ChunkRelay(session, tool_use_id, use["input"]) if _streams_content(info) else None
        file_path = use["input"].get("path") if relay else None
        session.emit_status(tool_running=True, file_path=file_path)
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
        metrics.TOOL_CALLS_TOTAL.labels(
            tool=info.claude_name,
            outcome=outcome.code or ("tool_error" if outcome.is_error else "ok"),
        ).inc()
        if outcome.is_error:
            code = outcome.code or "tool_error"
            log.warning("tool_failed", tool_use_id=tool_use_id, code=code, message=outcome.message)
            session.emit_error(GatehouseError(code), tool_use_id=tool_use_id)
        elif relay:
            metrics.TOOL_BYTES_WRITTEN_TOTAL.inc(relay.total)
        result: JsonDict = {"type": "tool_result", "tool_use_id": tool_use_id}
        result["content"] = outcome.content
        if outcome.is_error:
            result["is_error"] = True
        return result


class _ChunkRelay:
    """Turns create_file's progress (bytes written so far) into `tool_chunk` frames.

    Progress reports byte offsets; the text is sliced from the approved content through an
    incremental decoder, so the chunks always join into exactly what was written.
    """

    def __init__(self, session: Session, tool_use_id: str, tool_input: JsonDict) -> None:
        self._session = session
        self._tool_use_id = tool_use_id
        self._data = str(tool_input.get("content", "")).encode()
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._sent = 0
        self.total = len(self._data)

    async def on_progress(self, progress: float, _total: float | None, _msg: str | None) -> None:
        self._advance(min(int(progress), self.total))

    def finish(self) -> None:
        self._advance(self.total)

    def _advance(self, upto: int) -> None:
        if upto <= self._sent:
            return
        text = self._decoder.decode(self._data[self._sent : upto], final=upto == self.total)
        self._sent = upto
        if text:
            self._session.emit(
                protocol.ToolChunk(
                    data=protocol.ToolChunkData(chunk=text, tool_use_id=self._tool_use_id)
                )
            )


def _streams_content(info: ToolInfo) -> bool:
    return info.builtin and info.mcp_name == "create_file"


async def _ignore_progress(_progress: float, _total: float | None, _msg: str | None) -> None:
    return None


def _result(tool_use_id: str, text: str, is_error: bool) -> JsonDict:
    block: JsonDict = {
        "type": "tool_result",
        "tool_use_id": tool_use_id,
        "content": [{"type": "text", "text": text}],
    }
    if is_error:
        block["is_error"] = True
    return block


def _uncancel() -> None:
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
