"""The policy in force: every rule (stored, and the policy file's), and the audit trail.

Rules from the dialog and the Rules page are stored (they survive restarts); the policy file's
are held in memory as the file says, and cannot be removed from the UI. Every change is told to
the turns that wait for answers (`subscribe`), so a rule added or revoked applies to the calls
pending at that moment.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Literal

import structlog

from gatehouse import metrics
from gatehouse.policy_store import AuditEntry, PolicyStore, RuleUse
from gatehouse.rules import Call, Rule, RuleSpec, Source, Verdict, decide

log = structlog.get_logger(__name__)

Listener = Callable[[], None]
Revoked = Literal["revoked", "not_found", "policy_file"]
FILE_RULE_PREFIX = "file-"


class Policy:
    def __init__(self, store: PolicyStore) -> None:
        self._store = store
        self._stored: dict[str, Rule] = {}
        self._from_file: dict[str, Rule] = {}
        self._listeners: set[Listener] = set()
        # Told when a rule is added or revoked here (not on `reload`): with several workers,
        # the others are asked to reload (shared_sessions).
        self.on_stored_change: Listener | None = None

    @classmethod
    async def load(cls, store: PolicyStore) -> Policy:
        policy = cls(store)
        policy._stored = {rule.id: rule for rule in await store.rules()}
        return policy

    @property
    def store(self) -> PolicyStore:
        return self._store

    # ── the rules ───────────────────────────────────────────────────────────────────────────
    def rules(self) -> list[Rule]:
        return [*self._from_file.values(), *self._stored.values()]

    def rule(self, rule_id: str) -> Rule | None:
        return self._stored.get(rule_id) or self._from_file.get(rule_id)

    def verdict(self, call: Call) -> Verdict:
        return decide(self.rules(), call)

    async def add(self, spec: RuleSpec, source: Source, conversation_id: str | None = None) -> Rule:
        """Store a new rule, then apply it (to pending calls too)."""
        rule = Rule(uuid.uuid4().hex[:16], spec, source, time.time(), conversation_id)
        await self._store.add_rule(rule)
        self._stored[rule.id] = rule
        log.info("rule_added", rule_id=rule.id, effect=spec.effect, source=source)
        self._changed()
        self._announce()
        return rule

    async def revoke(self, rule_id: str) -> Revoked:
        if rule_id in self._from_file:
            return "policy_file"
        if rule_id not in self._stored:
            return "not_found"
        await self._store.remove_rule(rule_id)
        self._stored.pop(rule_id, None)
        log.info("rule_revoked", rule_id=rule_id)
        self._changed()
        self._announce()
        return "revoked"

    async def reload(self) -> None:
        """Read the stored rules again (another worker changed them), then apply them."""
        self._stored = {rule.id: rule for rule in await self._store.rules()}
        self._changed()

    def _announce(self) -> None:
        if self.on_stored_change is not None:
            try:
                self.on_stored_change()
            except Exception:
                log.exception("policy_announce_failed")

    def set_file_rules(self, specs: list[RuleSpec]) -> None:
        """Replace the policy file's rules; an unchanged rule keeps its id (its counts)."""
        now = time.time()
        rules: dict[str, Rule] = {}
        for spec in specs:
            rule_id = (
                FILE_RULE_PREFIX + uuid.uuid5(uuid.NAMESPACE_OID, spec.model_dump_json()).hex[:16]
            )
            old = self._from_file.get(rule_id)
            rules[rule_id] = old or Rule(rule_id, spec, "policy_file", now)
        self._from_file = rules
        self._changed()

    async def uses(self) -> dict[str, RuleUse]:
        return await self._store.rule_uses()

    async def history_rules(self, conversation_id: str) -> dict[str, dict[str, str | None]]:
        """For the history's cards: the rule that decided each call, by call id. A rule since
        revoked keeps its id only (no label, no source): there is nothing left to revoke."""
        cards: dict[str, dict[str, str | None]] = {}
        for tool_use_id, rule_id in (await self._store.deciding_rules(conversation_id)).items():
            rule = self.rule(rule_id)
            cards[tool_use_id] = {
                "rule_id": rule_id,
                "rule_label": rule.label if rule else None,
                "rule_source": rule.source if rule else None,
            }
        return cards

    # ── who is told of changes ──────────────────────────────────────────────────────────────
    def subscribe(self, listener: Listener) -> None:
        self._listeners.add(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.discard(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # one turn's failure must not keep the rule from the others
                log.exception("policy_listener_failed")

    # ── the audit trail ─────────────────────────────────────────────────────────────────────
    async def record(self, entry: AuditEntry) -> None:
        metrics.TOOL_DECISIONS_TOTAL.labels(source=entry.decided_by).inc()
        try:
            await self._store.record(entry)
        except Exception:  # the decision stands; losing its audit row is logged loudly
            log.exception("audit_not_recorded", tool_use_id=entry.tool_use_id)

    async def record_outcome(self, conversation_id: str, tool_use_id: str, outcome: str) -> None:
        try:
            await self._store.record_outcome(conversation_id, tool_use_id, outcome)
        except Exception:
            log.exception("audit_outcome_not_recorded", tool_use_id=tool_use_id)
