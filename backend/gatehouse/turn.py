"""One reply, owned from start to end by a `Turn`.

A turn answers one user message, or finishes a round of tool calls that was waiting when the
server stopped (built from the stored rows by `Turns.restored`, the same code path after
that). It owns the model requests, the calls Claude asked for (`ToolCall`, moving through
`ToolCallStatus`), their screening, the approvals, the running tools, the busy signal a
message refused meanwhile gets, cancellation, and its one final
`status_update {ai_typing: false}` then `assistant_message_completed {reason}`.

Every call is stored as it moves; its final status carries the `tool_result` Claude gets, so
a round can be finished after a restart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

import structlog

from gatehouse import attachments, metrics, protocol
from gatehouse.approvals import Answer, Approvals, Outcome, Refusal
from gatehouse.attachments import Upload
from gatehouse.call_decisions import (
    RULE_DENIED_TEXT,
    checked_edit,
    denied_text,
    dialog_rule,
    edit_note,
    rule_call,
)
from gatehouse.chunk_relay import ChunkRelay
from gatehouse.errors import GatehouseError, ModelError, PrefillRefused
from gatehouse.file_versions import origin_meta
from gatehouse.history import turn_of, usage_frame
from gatehouse.history_repair import (
    PreparedReply,
    for_claude,
    open_tool_uses,
    prepare_reply,
    unanswered_result,
)
from gatehouse.llm import Claude, JsonDict
from gatehouse.policy import Policy
from gatehouse.policy_store import AuditEntry
from gatehouse.protocol import ToolApprovalData
from gatehouse.rules import Call, Rule, proposed_glob
from gatehouse.session import Session
from gatehouse.store import StoredToolCall
from gatehouse.tool_call import FINAL, OPEN, DecidedBy, ToolCall, ToolCallStatus
from gatehouse.tool_drafts import ToolDrafts
from gatehouse.tool_hub import ToolHub, ToolInfo
from gatehouse.usage import Usage

if TYPE_CHECKING:
    from gatehouse.titles import Titles

log = structlog.get_logger(__name__)

Reason = Literal["ok", "error", "cancelled"]
CutShort = Literal["max_tokens", "refusal"]  # told to the person with the completion frame
CUT_SHORT: frozenset[str] = frozenset({"max_tokens", "refusal"})
# Claude paused a long turn (server tools): its reply so far goes back as-is and it goes on.
# Bounded, so a server that keeps pausing cannot hold a reply open for ever.
MAX_PAUSES = 8
Status = ToolCallStatus
THINKING_BLOCKS = frozenset({"thinking", "redacted_thinking"})

TIMEOUT_TEXT = "The user did not answer in time, so the tool call was denied; it did not run."
EXPIRED_TEXT = "The approval expired before the user answered; the tool call did not run."
CANCELLED_TEXT = "The user stopped the reply; this tool call did not complete."
INTERRUPTED_TEXT = "The server restarted while this tool call ran; it may not have completed."
FAILED_TEXT = "[tool_error] Gatehouse failed while handling this call; it may not have run."
ABANDONED_TEXT = "This call was never decided (its turn ended early); it did not run."
# Sent (and stored, hidden from the person) when the model refuses a prefill.
CONTINUE_TEXT = (
    "Your previous reply was cut off at the output token limit. Continue it exactly where it "
    "stopped, without repeating anything and without any preamble: what you write now is "
    "joined to it as it is."
)


@dataclass(frozen=True)
class Turns:
    """What every turn needs; starts a conversation's turns."""

    claude: Claude
    tools: ToolHub
    approval_timeout_s: float
    max_message_chars: int
    policy: Policy
    attachment_limits: attachments.Limits = attachments.DEFAULT_LIMITS
    titles: Titles | None = None  # names a conversation after its first reply
    draft_interval_s: float = 0.1  # tool_input_delta: at most one frame per call this often
    draft_max_chars: int = 262_144  # … and at most this much of each call's input

    def reply(self, session: Session, text: str, uploads: list[Upload] | None = None) -> bool:
        """Answer the person's message; False when a reply runs (the person is told: busy)."""
        return session.start_turn(Turn(self, session, text=text, uploads=uploads))

    def continue_reply(self, session: Session) -> bool:
        """Continue a reply cut at the token limit; refused when the last reply was not cut."""
        if not session.replying and not session.cut:
            session.emit_error(GatehouseError("nothing_to_continue"))
            return False
        return session.start_turn(Turn(self, session, continuing=True))

    def restored(self, session: Session, stored: list[StoredToolCall]) -> Turn | None:
        """The turn that finishes a round stored before a restart; None when it was answered.

        Its pending approvals are reopened now, before any client attaches, so the first
        client to come back is sent their tool_request frames."""
        if not any(call.status in OPEN for call in stored):
            return None
        uses = open_tool_uses(session.history)
        if not uses:  # the round was answered before the stop: nothing to finish
            log.info("nothing_to_resume", session_id=session.id)
            return None
        turn = Turn(self, session)
        turn.restore_round(uses, stored)
        return turn


class Turn:
    """One reply of one conversation, from its first request to its completion frame."""

    def __init__(
        self,
        kit: Turns,
        session: Session,
        *,
        text: str | None = None,
        uploads: list[Upload] | None = None,
        continuing: bool = False,
        again: bool = False,
    ) -> None:
        self._kit = kit
        self._session = session
        self._text = text
        self._uploads = uploads or []
        self._kept = False  # Claude's content was stored: the completion tells its usage
        self._continuing = continuing  # the last reply was cut: Claude continues it
        self._again = again  # a retry or an edit: the person's message is in the history
        # A message for Claude after the history, stored (hidden) just before its answer.
        self._lead_in: JsonDict | None = None
        # The conversation's settings when the reply began: a change applies to the next one.
        self._options = session.reply_options
        self._cut_short: CutShort | None = None
        self._restored: list[ToolCall] = []
        self._approvals = Approvals()
        self._requests: dict[str, str] = {}  # tool_use_id → its tool_request frame, unanswered
        self._busy_signalled = False
        self._cancel_requested = False
        self._task: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Future[Any]] = set()  # approvals and rules being stored
        self._asked: dict[str, _Asked] = {}  # tool_use_id → a call that waits for an answer
        self._first_reply = text is not None and all(m["role"] == "user" for m in session.history)
        self._drafts: ToolDrafts | None = None  # the calls of the reply streaming now

    # ── what the conversation sees ──────────────────────────────────────────────────────────
    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self._run(), name=f"turn:{self._session.id}")
        return self._task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def awaiting_approval(self) -> bool:
        return self._approvals.waiting

    def open_requests(self) -> list[str]:
        """The tool_request frames still waiting for an answer, for a client that comes back."""
        return list(self._requests.values())

    def decide(self, answer: ToolApprovalData) -> Refusal | None:
        """The person's answer, with its scope, reason or edited input. An approval is stored
        at once (with the edited input), so a call approved while an earlier one of its round
        runs still runs after a restart (it never started), and runs as approved."""
        tool_use_id = answer.tool_use_id
        asked = self._asked.get(tool_use_id)
        if asked is None or not self._approvals.is_pending(tool_use_id):
            return Refusal("unknown_tool_call")
        info = self._kit.tools.lookup(asked.call.use["name"])  # None: its server is down
        rule = dialog_rule(answer, info) if info else None
        if isinstance(rule, Refusal):
            return rule
        edited: JsonDict | None = None
        if answer.approved and answer.input is not None and info is not None:
            checked = checked_edit(self._kit.tools, info.claude_name, dict(answer.input))
            if isinstance(checked, Refusal):
                return checked
            edited = checked if checked != asked.call.use["input"] else None
        reason = None if answer.approved else answer.reason
        if not self._approvals.decide(tool_use_id, Answer(answer.approved, None, reason, edited)):
            return Refusal("unknown_tool_call")
        if answer.approved:
            self._store_approval(tool_use_id, edited)
        else:
            self._store_denial(tool_use_id, reason)
        if rule is not None:
            scope = self._session.id if answer.scope == "conversation" else None
            self._track(self._kit.policy.add(rule, "dialog", scope))
        return None

    def _store_denial(self, tool_use_id: str, reason: str | None) -> None:
        """A denial is stored as it arrives too: a call denied while an earlier one of its
        round runs is not asked about again after a restart."""
        self._track(
            self._session.store.update_tool_call(
                self._session.id,
                tool_use_id,
                status=Status.DENIED,
                result=_result(tool_use_id, denied_text(reason), True),
                decided_by=DecidedBy.PERSON,
                only_if=(Status.PENDING,),  # the turn may have moved it on already
            )
        )

    def _store_approval(self, tool_use_id: str, edited: JsonDict | None) -> None:
        frame = self._approved_frame(tool_use_id, edited) if edited is not None else None
        self._track(
            self._session.store.update_tool_call(
                self._session.id,
                tool_use_id,
                status=Status.APPROVED,
                decided_by=DecidedBy.PERSON,
                only_if=(Status.PENDING,),  # the turn may have moved it on already
                request_frame=frame,
            )
        )

    def _approved_frame(self, tool_use_id: str, edited: JsonDict) -> str | None:
        """The stored request with the input that will run, so a restart runs that one."""
        raw = self._requests.get(tool_use_id)
        if raw is None:
            return None
        data = protocol.ToolRequest.model_validate_json(raw).data
        return data.model_copy(update={"input": edited}).model_dump_json()

    def _track(self, write: Any) -> None:
        task = asyncio.ensure_future(write)
        self._writes.add(task)
        task.add_done_callback(self._written)

    def _policy_changed(self) -> None:
        """A rule was added or revoked: a pending call it now decides is decided."""
        for tool_use_id in self._approvals.waiting_ids():
            asked = self._asked.get(tool_use_id)
            if asked is None or asked.rules is None:
                continue
            verdict = self._kit.policy.verdict(asked.rules)
            if verdict.rule is not None and verdict.effect != "ask":
                answer = Answer(verdict.effect == "allow", verdict.rule.id)
                if self._approvals.decide(tool_use_id, answer) and answer.approved:
                    self._store_approval(tool_use_id, None)

    def _written(self, task: asyncio.Future[Any]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("decision_not_stored", error=repr(task.exception()))

    def refuse_busy(self) -> None:
        """A message came while this turn runs: refused; `busy: false` follows at its end."""
        self._busy_signalled = True
        self._session.emit_status(busy=True)
        self._session.emit_error(GatehouseError("busy"))

    def cancel(self) -> bool:
        """The person's Stop: end the reply and its tool; the partial text is kept."""
        if self._task is None or self._task.done():
            return False
        self._cancel_requested = True
        self._task.cancel()
        return True

    async def close(self) -> None:
        """The server is stopping: end the task, leaving stored state for the next start."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._approvals.clear()

    # ── life cycle ──────────────────────────────────────────────────────────────────────────
    async def _run(self) -> None:
        session = self._session
        structlog.contextvars.bind_contextvars(session_id=session.id)
        reason: Reason = "ok"
        self._kit.policy.subscribe(self._policy_changed)
        # calls restored as waiting after a restart meet the rules in force now (a rule may
        # have been added or revoked, or the policy file changed, while the server was down)
        self._policy_changed()
        try:
            await self._body()
        except GatehouseError as err:
            reason = "error"
            if isinstance(err, ModelError):
                log.warning(
                    "model_error", code=err.code, status=err.status, request_id=err.request_id
                )
            session.emit_error(err)
            session.flag_error()
        except asyncio.CancelledError:
            if not self._cancel_requested:
                raise  # the server is stopping: stored state is left for the next start
            reason = "cancelled"
            _uncancel()
        except Exception:
            reason = "error"
            log.exception("turn_failed")
            session.emit_error(GatehouseError("internal_error"))
            session.flag_error()
        finally:
            self._kit.policy.unsubscribe(self._policy_changed)
            self._approvals.clear()
            self._requests.clear()
            self._asked.clear()
        self._complete(reason)
        if reason == "ok" and self._first_reply and self._kit.titles is not None:
            self._kit.titles.after_first_reply(session, session.history)

    def _complete(self, reason: Reason) -> None:
        """The one end of every reply."""
        session = self._session
        session.emit_status(ai_typing=False)
        if self._busy_signalled:
            self._busy_signalled = False
            session.emit_status(busy=False)
        stop_reason = self._cut_short if reason == "ok" else None
        usage = session.reply_usage() if self._kept else None  # this reply's bubble, all of it
        data = protocol.AssistantMessageCompletedData(
            reason=reason,
            stop_reason=stop_reason,
            usage=usage_frame(usage),
            ids=session.reply_ids(),
        )
        session.emit(protocol.AssistantMessageCompleted(data=data))

    async def _body(self) -> None:
        session = self._session
        session.clear_error()  # a new reply: the last one's failure is no longer the state
        if self._continuing:
            session.emit_status(ai_typing=True)
            await self._continue_cut()
            return
        if self._again:
            session.emit_status(ai_typing=True)
            await self._converse()
            return
        if self._text is None:
            await self._finish_round(self._restored)
            session.emit_status(ai_typing=True)
            await self._converse()
            return
        if len(self._text) > self._kit.max_message_chars:
            raise GatehouseError("message_too_long")
        checked = await self._checked_uploads()
        await self._close_open_round()
        saving = session.add_user_text(self._text, checked.blocks, checked.names)
        session.emit_status(ai_typing=True)
        try:
            await self._converse()
        finally:
            await saving  # the person's message is stored before the turn ends

    async def _checked_uploads(self) -> attachments.Checked:
        """The person's attachments as content blocks; decoding and checking an image is CPU
        work, done off the event loop."""
        if not self._uploads:
            return attachments.Checked([], [])
        held = attachments.held_bytes(self._session.history)
        limits = self._kit.attachment_limits
        return await asyncio.to_thread(attachments.check, self._uploads, limits, held)

    async def _continue_cut(self) -> None:
        """Claude goes on with its cut reply: from the reply itself (a prefill) where the model
        takes one, else asked to in a user turn, hidden from the person; the continuation
        joins the cut reply's bubble either way."""
        claude = self._kit.claude
        if claude.takes_prefill(self._options.model):
            try:
                await self._converse()
                return
            except PrefillRefused:  # refused before anything streamed; remembered for next time
                log.info("prefill_refused")
        self._lead_in = {"role": "user", "content": [_text_block(CONTINUE_TEXT)]}
        await self._converse()

    async def _converse(self) -> None:
        session = self._session
        pauses = 0
        while True:
            reply, stop_reason = await self._stream()
            # A paused reply goes on by itself; one asking for our tools is answered first.
            if stop_reason == "pause_turn" and not reply.tool_uses():
                if pauses < MAX_PAUSES:
                    pauses += 1
                    continue
                log.warning("pause_turn_limit", pauses=pauses)
            if stop_reason == "max_tokens" or stop_reason == "refusal":
                self._cut_short = stop_reason
                return
            uses = reply.tool_uses()
            if not uses:
                return
            session.emit_status(ai_typing=False)  # the person has the floor
            calls: list[ToolCall] = []
            try:
                for position, use in enumerate(uses):
                    calls.append(await self._screen(position, use, reply.refused))
                await self._finish_round(calls)
            except asyncio.CancelledError:
                if self._cancel_requested:
                    await self._answer_every_use(uses, calls, DecidedBy.STOP, CANCELLED_TEXT)
                raise  # a stopping server leaves the round to the next start
            except Exception:
                await self._answer_every_use(uses, calls, DecidedBy.SERVER, FAILED_TEXT)
                raise
            session.emit_status(ai_typing=True)

    async def _stream(self) -> tuple[PreparedReply, str | None]:
        session = self._session
        partial: list[str] = []

        def on_text(text: str) -> None:
            partial.append(text)
            session.emit_text(text)

        drafts = self._drafts = ToolDrafts(
            session.emit, self._kit.draft_interval_s, self._kit.draft_max_chars
        )
        sent = for_claude(session.history)
        if sent.changes:  # a history this app wrote needs none: worth a look when it happens
            log.warning("history_repaired_for_claude", changes=sent.changes)
        if self._lead_in is None:
            messages = _without_trailing_space(sent.messages)
        else:  # the cut reply is not the last message: it goes as it was written
            messages = [*sent.messages, self._lead_in]
        options = self._options
        if options.thinking and not _thinking_fits(messages):
            options = dataclasses.replace(options, thinking=False)
        try:
            reply = await self._kit.claude.stream_reply(
                messages,
                self._kit.tools.tools_for_claude(),
                on_text,
                on_retry=lambda retrying: session.emit_status(reconnecting=retrying),
                options=options,
                on_thinking=session.emit_thinking,
                on_tool_input=drafts.fragment,
            )
            drafts.flush()
        except asyncio.CancelledError:
            if partial:  # keep what the person already saw, marked as stopped
                await self._keep([_text_block("".join(partial))], stopped=True)
            raise
        content = [b for b in reply.content if not (b.get("type") == "text" and not b["text"])]
        if reply.stop_reason in CUT_SHORT:  # a cut or declined call is not what Claude meant
            content = [b for b in content if b.get("type") != "tool_use"]
        prepared = prepare_reply(content, session.history)
        if prepared.content:
            cut_short = reply.stop_reason if reply.stop_reason in CUT_SHORT else None
            await self._keep(prepared.content, usage=reply.usage, stop_reason=cut_short)
        return prepared, reply.stop_reason

    async def _keep(
        self,
        content: list[JsonDict],
        *,
        stopped: bool = False,
        usage: Usage | None = None,
        stop_reason: str | None = None,
    ) -> None:
        """Store Claude's content with what it cost; a paused or cut reply it continues grows
        in place (and so does its usage), unless Claude was asked to go on in a user turn,
        stored now, before its answer."""
        session = self._session
        self._kept = True
        if self._lead_in is not None:
            lead_in, self._lead_in = self._lead_in, None
            await session.add_message(lead_in, hidden=True)
        if session.history and session.history[-1]["role"] == "assistant":
            await session.extend_last_message(
                content, stopped=stopped, usage=usage, stop_reason=stop_reason
            )
        else:
            message = {"role": "assistant", "content": content}
            await session.add_message(
                message, stopped=stopped, usage=usage, stop_reason=stop_reason
            )

    # ── one round of tool calls ─────────────────────────────────────────────────────────────
    def _absent_tool(self, use: JsonDict) -> str:
        """Why a call to a tool the hub does not offer now is refused (Claude is told)."""
        name: str = use["name"]
        server = self._kit.tools.unavailable_server(name)
        if server is None:
            return f"Unknown tool {name!r}."
        self._session.emit_error(GatehouseError("server_unavailable"), tool_use_id=use["id"])
        return f"[server_unavailable] The MCP server {server!r} is down; {name!r} did not run."

    async def _screen(self, position: int, use: JsonDict, refused: dict[str, str]) -> ToolCall:
        """Refuse what must never reach the person; ask about the rest."""
        call = ToolCall(use)
        name: str = use["name"]
        info = self._kit.tools.lookup(name)
        preview = self._preview(use) if info is not None else None
        # A call whose id had to be replaced is not the call Claude meant: it never runs.
        refusal = refused.get(call.id) or self._refusal(use, info, preview)
        if refusal is not None or info is None:
            result = _result(call.id, refusal or "Unknown tool.", True)
            call.settle(Status.INVALID, result, DecidedBy.SCREENING)
            await self._save(position, call, None, None)
            if self._drafts is not None and self._drafts.shown(call.id):
                self._finished(call, "invalid_input")  # its draft card closes, refused
            return call
        rules = rule_call(self._session.id, info, use["input"])
        verdict = self._kit.policy.verdict(rules)
        if verdict.rule is not None and verdict.effect != "ask":
            await self._decided_by_rule(position, call, info, verdict.rule)
            return call
        expires_at = time.time() + self._kit.approval_timeout_s
        request = protocol.ToolRequest(
            data=protocol.ToolRequestData(
                id=call.id,
                name=name,
                input=use["input"],
                server=info.server,
                preview=protocol.FilePreview(**preview) if preview else None,
                annotations=info.annotations,
                proposed_glob=proposed_glob(use["input"], rules.path_fields),
            )
        )
        self._asked[call.id] = _Asked(call, rules)
        call.status = Status.PENDING
        # Stored before the person can see it, so an answer can never outlive its record.
        await self._save(position, call, request.data.model_dump_json(), expires_at)
        self._approvals.ask(call.id, expires_at)
        self._requests[call.id] = self._session.emit(request)
        return call

    async def _decided_by_rule(
        self, position: int, call: ToolCall, info: ToolInfo, rule: Rule
    ) -> None:
        """A rule decides the call unasked: it is stored approved (it runs in its turn) or
        denied, the person's card says which rule, and the audit trail records it."""
        allowed = rule.effect == "allow"
        call.rule_id = rule.id
        if allowed:
            call.status, call.decided_by = Status.APPROVED, DecidedBy.RULE
        else:
            text = RULE_DENIED_TEXT.format(label=rule.label)
            call.settle(Status.DENIED, _result(call.id, text, True), DecidedBy.RULE)
        await self._save(position, call, None, None)
        self._emit_decided(call, info, rule)
        decision = "allowed" if allowed else "denied"
        await self._audit(call, info, decision, "rule", 0.0, outcome=None if allowed else "denied")
        if not allowed:
            self._finished(call, None)

    def _emit_decided(self, call: ToolCall, info: ToolInfo, rule: Rule) -> None:
        data = protocol.ToolDecidedData(
            tool_use_id=call.id,
            name=call.use["name"],
            server=info.server,
            input=call.use["input"],
            decision="allowed" if rule.effect == "allow" else "denied",
            rule_id=rule.id,
            rule_label=rule.label,
            rule_source=rule.source,
        )
        self._session.emit(protocol.ToolDecided(data=data))

    async def _audit(
        self,
        call: ToolCall,
        info: ToolInfo | None,
        decision: str,
        decided_by: str,
        latency_s: float | None,
        reason: str | None = None,
        *,
        outcome: str | None = None,
    ) -> None:
        entry = AuditEntry(
            conversation_id=self._session.id,
            tool_use_id=call.id,
            server=info.server if info else "",
            tool=info.mcp_name if info else call.use["name"][:128],
            input=call.use["input"],
            edited_input=call.edited_input,
            decision=decision,
            decided_by=decided_by,
            rule_id=call.rule_id,
            reason=reason,
            latency_s=latency_s,
            outcome=outcome,
        )
        await self._kit.policy.record(entry)

    def _refusal(
        self, use: JsonDict, info: ToolInfo | None, preview: JsonDict | None
    ) -> str | None:
        if info is None:
            return self._absent_tool(use)
        if errors := self._kit.tools.validate_input(use["name"], use.get("input")):
            return "Invalid input: " + "; ".join(errors)  # Claude fixes its own input
        if preview is not None and not preview["valid_path"]:
            self._session.emit_error(GatehouseError("invalid_path"), tool_use_id=use["id"])
            return f"invalid_path: {preview.get('problem') or 'outside the workspace'}"
        return None

    def _preview(self, use: JsonDict) -> JsonDict | None:
        tool_input: object = use.get("input")
        if not isinstance(tool_input, dict):
            return None
        return self._kit.tools.preview(use["name"], cast(JsonDict, tool_input))

    def restore_round(self, uses: list[JsonDict], stored: list[StoredToolCall]) -> None:
        """The open round's calls as stored; a pending one asks again, with its old deadline."""
        rows = {row.id: row for row in stored}
        now = time.time()
        for use in uses:
            call = ToolCall(use)
            row = rows.get(use["id"])
            if row is None or row.status == Status.RUNNING:
                call.status = Status.INTERRUPTED  # settled, and the person told, by the turn
            elif row.status == Status.APPROVED:
                call.status = Status.APPROVED  # decided and never started: it runs now
                call.decided_by = row.decided_by
                call.edited_input = _edited_input(row.request_frame, use["input"])
            elif row.status != Status.PENDING:
                call.status, call.result, call.decided_by = row.status, row.result, row.decided_by
            elif row.expires_at is not None and row.expires_at <= now:
                call.status = Status.EXPIRED
            elif row.request_frame is None:
                call.status = Status.INTERRUPTED
            else:
                expires_at = row.expires_at or now + self._kit.approval_timeout_s
                self._approvals.ask(call.id, expires_at)
                data = protocol.ToolRequestData.model_validate_json(row.request_frame)
                frame = protocol.ToolRequest(data=data, seq=self._session.seq)
                self._requests[call.id] = protocol.encode(frame)
                info = self._kit.tools.lookup(use["name"])
                rules = rule_call(self._session.id, info, use["input"]) if info else None
                self._asked[call.id] = _Asked(call, rules)
                call.status = Status.PENDING
            self._restored.append(call)

    async def _finish_round(self, calls: list[ToolCall]) -> None:
        """Decide and run every call in order; then all results go to Claude in one turn."""
        try:
            for call in calls:
                await self._settle(call)
        except asyncio.CancelledError:
            if not self._cancel_requested:
                raise  # stopping the server: pending calls stay pending for the next start
            for call in calls:
                if call.result is None:
                    stopped = _result(call.id, CANCELLED_TEXT, True)
                    call.settle(Status.INTERRUPTED, stopped, DecidedBy.STOP)
                    self._finished(call, "cancelled")
                    await self._update(call)
            await self._add_results(calls)
            raise
        await self._add_results(calls)

    async def _add_results(self, calls: list[ToolCall]) -> None:
        await self._session.add_message({"role": "user", "content": [c.result for c in calls]})

    async def _settle(self, call: ToolCall) -> None:
        session = self._session
        if call.settled:
            if call.status == Status.DENIED and call in self._restored:
                self._finished(call, None)  # denied before a restart, while another call ran
            return
        if call.status in (Status.INTERRUPTED, Status.EXPIRED):  # found so after a restart
            expired = call.status == Status.EXPIRED
            code = "approval_expired" if expired else "tool_interrupted"
            session.emit_error(GatehouseError(code), tool_use_id=call.id)
            text = EXPIRED_TEXT if expired else INTERRUPTED_TEXT
            call.settle(
                call.status,
                _result(call.id, text, True),
                DecidedBy.DEADLINE if expired else DecidedBy.RESTART,
            )
            if expired:
                await self._audit(call, self._kit.tools.lookup(call.use["name"]), "expired",
                                  "expiry", None)  # fmt: skip
            self._finished(call, code)
            await self._update(call)
            return
        info = self._kit.tools.lookup(call.use["name"])
        reason: str | None = None
        if call.status == Status.APPROVED:
            decision = "approved"  # before a restart, or by a rule
        else:
            decision, reason = await self._answered(call, info)
        log.info("tool_decision", tool_use_id=call.id, decision=decision, rule_id=call.rule_id)
        code: str | None = None
        if decision == "denied":
            text = denied_text(reason)
            if call.rule_id is not None:
                rule = self._kit.policy.rule(call.rule_id)
                text = RULE_DENIED_TEXT.format(label=rule.label if rule else call.rule_id)
            call.settle(
                Status.DENIED, _result(call.id, text, True), call.decided_by or DecidedBy.PERSON
            )
        elif decision == "timeout":
            code = "approval_timeout"
            session.emit_error(GatehouseError(code), tool_use_id=call.id)
            call.settle(Status.EXPIRED, _result(call.id, TIMEOUT_TEXT, True), DecidedBy.DEADLINE)
        elif info is None:  # approved, but its server went away meanwhile
            absent = _result(call.id, self._absent_tool(call.use), True)
            call.settle(Status.FAILED, absent, DecidedBy.SERVER)
            code = "server_unavailable"
        else:
            call.status = Status.RUNNING  # approved, and started at once: one write
            await self._update(call)
            result, code = await self._run_tool(call, info)
            status = Status.FAILED if result.get("is_error") else Status.DONE
            call.settle(status, result, DecidedBy.TOOL)
        self._finished(call, code)
        await self._update(call)

    async def _answered(self, call: ToolCall, info: ToolInfo | None) -> tuple[str, str | None]:
        """Wait for the person (or a rule added meanwhile); record who decided, and how."""
        outcome: Outcome = await self._approvals.wait(call.id)
        self._requests.pop(call.id, None)
        self._asked.pop(call.id, None)
        answer = outcome.answer
        reason = answer.reason if answer else None
        if answer is None:
            decided_by = "timeout"
        elif answer.rule_id is not None:
            decided_by, call.rule_id, call.decided_by = "rule", answer.rule_id, DecidedBy.RULE
            rule = self._kit.policy.rule(answer.rule_id)
            if rule is not None and info is not None:
                self._emit_decided(call, info, rule)
        else:
            decided_by, call.decided_by = "person", DecidedBy.PERSON
            call.edited_input = answer.edited_input
        decision = {"approved": "allowed", "denied": "denied", "timeout": "expired"}
        await self._audit(
            call, info, decision[outcome.decision], decided_by, outcome.latency_s, reason
        )
        return outcome.decision, reason

    async def _run_tool(self, call: ToolCall, info: ToolInfo) -> tuple[JsonDict, str | None]:
        """Run an approved call: its result, and its error code when it failed."""
        session = self._session
        use: JsonDict = {**call.use, "input": call.run_input}
        tool_use_id: str = use["id"]
        relay = _relay(session, use, info)
        started_frame = protocol.ToolStartedData(tool_use_id=tool_use_id, name=use["name"])
        session.emit(protocol.ToolStarted(data=started_frame))
        session.emit_status(tool_running=True, file_path=_file_path(use, info))
        started = time.perf_counter()
        try:
            outcome = await self._kit.tools.call(
                use["name"],
                use["input"],
                relay.on_progress if relay else _ignore_progress,
                builtin_meta=origin_meta(session.id, _turn_position(session), tool_use_id),
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
            session.flag_error()
        elif relay:
            metrics.TOOL_BYTES_WRITTEN_TOTAL.inc(relay.total)
        result: JsonDict = {"type": "tool_result", "tool_use_id": tool_use_id}
        result["content"] = outcome.content
        if call.edited_input is not None:  # Claude is told what ran instead of its input
            note = _text_block(edit_note(call.use["input"], call.edited_input))
            result["content"] = [note, *outcome.content]
        if outcome.is_error:
            result["is_error"] = True
        return result, code if outcome.is_error else None

    def _finished(self, call: ToolCall, code: str | None) -> None:
        """A call shown to the person reached its final status: its card shows which."""
        data = protocol.ToolFinishedData(
            tool_use_id=call.id,
            status=call.status,
            decided_by=call.decided_by,
            code=code,
            rule_id=call.rule_id,
        )
        self._session.emit(protocol.ToolFinished(data=data))

    # ── stored rows ─────────────────────────────────────────────────────────────────────────
    async def _save(
        self, position: int, call: ToolCall, frame: str | None, expires_at: float | None
    ) -> None:
        row = StoredToolCall(
            id=call.id,
            position=position,
            name=call.use["name"][:64],  # the column's width; Claude's names are shorter
            status=call.status,
            request_frame=frame,
            result=call.result,
            expires_at=expires_at,
            decided_by=call.decided_by,
        )
        await self._session.store.save_tool_call(self._session.id, row)

    async def _update(self, call: ToolCall) -> None:
        await self._session.store.update_tool_call(
            self._session.id,
            call.id,
            status=call.status,
            result=call.result,
            decided_by=call.decided_by,
        )
        if call.status in FINAL:  # the audit row of its decision learns how it ended
            await self._kit.policy.record_outcome(self._session.id, call.id, call.status)

    async def _answer_every_use(
        self, uses: list[JsonDict], calls: list[ToolCall], decided_by: DecidedBy, text: str
    ) -> None:
        """After a round failed or was stopped half-way: every use gets a result, stored, so
        the history stays valid for Claude. Called while an exception propagates, so store
        failures are logged, not raised (the message is in the history in memory either way)."""
        session = self._session
        if session.history and session.history[-1]["role"] == "user":
            return  # the round's results were added before it failed
        status = Status.INTERRUPTED if decided_by == DecidedBy.STOP else Status.FAILED
        screened = {call.id: call for call in calls}
        unsettled = [call for call in calls if call.result is None]
        for call in unsettled:
            call.settle(status, _result(call.id, text, True), decided_by)
            self._finished(call, "cancelled" if decided_by == DecidedBy.STOP else "internal_error")
        results: list[JsonDict] = []
        for use in uses:  # a use never screened (the failure came first) is answered here
            call = screened.get(use["id"])
            results.append(call.result if call and call.result else _result(use["id"], text, True))
        try:
            await session.add_message({"role": "user", "content": results})
            for call in unsettled:
                await self._update(call)
        except Exception:
            log.exception("round_results_not_stored")

    async def _close_open_round(self) -> None:
        """Answer the tool calls of a round an earlier turn left open (it failed, or the server
        stopped before their rows were written), before the person's new message."""
        session = self._session
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
                status=Status.INTERRUPTED,
                result=unanswered_result(use["id"], ABANDONED_TEXT),
                decided_by=DecidedBy.SERVER,
                only_if=tuple(OPEN),
            )


@dataclass
class _Asked:
    call: ToolCall
    rules: Call | None  # what rules see of it (None: its server is down)


def _edited_input(request_frame: str | None, original: JsonDict) -> JsonDict | None:
    """The input an approval stored in place of Claude's, if the person edited it."""
    if request_frame is None:
        return None
    stored = protocol.ToolRequestData.model_validate_json(request_frame).input
    return stored if stored != original else None


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


def _turn_position(session: Session) -> int | None:
    """The stored position of the person's message the running reply answers."""
    asked = turn_of(session.history)
    return None if asked is None else session.positions[asked]


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


def _thinking_fits(messages: list[JsonDict]) -> bool:
    """With thinking on, the API refuses a request whose reply goes on from an assistant
    message (a round of tool results, a reply continued) unless that message starts with its
    thinking: a reply begun with thinking off finishes without it."""
    last = messages[-1] if messages else None
    if last is None:
        return True
    if last["role"] == "user":
        kinds = [block.get("type") for block in _blocks_of(last)]
        if "tool_result" not in kinds or len(messages) < 2:
            return True
        last = messages[-2]
    blocks = _blocks_of(last)
    return bool(blocks) and blocks[0].get("type") in THINKING_BLOCKS


def _blocks_of(message: JsonDict) -> list[JsonDict]:
    content = message["content"]
    return [] if isinstance(content, str) else cast(list[JsonDict], content)


def _without_trailing_space(messages: list[JsonDict]) -> list[JsonDict]:
    """The API refuses a final assistant message (one Claude continues) whose text ends in
    whitespace; the stored message keeps it, the request drops it."""
    if not messages or messages[-1]["role"] != "assistant":
        return messages
    blocks: list[JsonDict] = list(messages[-1]["content"])
    if blocks and blocks[-1].get("type") == "text":
        text: str = blocks[-1]["text"].rstrip()
        blocks = blocks[:-1] + ([_text_block(text)] if text else [])
    return [*messages[:-1], {**messages[-1], "content": blocks}]


def _uncancel() -> None:
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
