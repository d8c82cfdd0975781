"""Stored rules and the audit trail (migration 0007), read and written through the `Store`.

Rules are few and read once at start-up; audit rows are written as calls are decided and
finished, and read newest first in pages keyed by their id.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from gatehouse.rules import Rule, RuleSpec, Source
from gatehouse.store import Store, metadata

JsonDict = dict[str, Any]

rules_table = Table(
    "rules",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("spec", JSON, nullable=False),
    Column("source", String(16), nullable=False),
    Column("conversation_id", String(64), nullable=True),
    Column("created_at", Float, nullable=False),
)
audit_table = Table(
    "audit",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", Float, nullable=False),
    Column("conversation_id", String(64), nullable=False),
    Column("tool_use_id", String(200), nullable=False),
    Column("server", String(64), nullable=False),
    Column("tool", String(128), nullable=False),
    Column("input", JSON, nullable=True),
    Column("edited_input", JSON, nullable=True),
    Column("decision", String(16), nullable=False),  # allowed | denied | expired
    Column("decided_by", String(16), nullable=False),  # person | rule | timeout | expiry
    Column("rule_id", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("latency_s", Float, nullable=True),
    Column("outcome", String(16), nullable=True),  # the call's final status
)

AUDIT_FILTERS = ("conversation_id", "server", "tool", "decision", "decided_by", "rule_id")


@dataclass(frozen=True)
class AuditEntry:
    conversation_id: str
    tool_use_id: str
    server: str
    tool: str
    input: JsonDict | None
    decision: str
    decided_by: str
    edited_input: JsonDict | None = None
    rule_id: str | None = None
    reason: str | None = None
    latency_s: float | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class RuleUse:
    decided: int
    last_used_at: float | None


class PolicyStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    # ── rules ───────────────────────────────────────────────────────────────────────────────
    async def rules(self) -> list[Rule]:
        async with self._store.connect() as connection:
            rows = await connection.execute(select(rules_table).order_by(rules_table.c.created_at))
            return [_rule(row) for row in rows]

    async def add_rule(self, rule: Rule) -> None:
        values = {
            "id": rule.id,
            "spec": rule.spec.model_dump(mode="json"),
            "source": rule.source,
            "conversation_id": rule.conversation_id,
            "created_at": rule.created_at,
        }

        async def step(connection: AsyncConnection) -> None:
            await connection.execute(insert(rules_table).values(**values))

        await self._store.write(step)

    async def remove_rule(self, rule_id: str) -> bool:
        async def step(connection: AsyncConnection) -> bool:
            gone = await connection.execute(delete(rules_table).where(rules_table.c.id == rule_id))
            return gone.rowcount > 0

        return bool(await self._store.write(step))

    async def rule_uses(self) -> dict[str, RuleUse]:
        """How many calls each rule decided, and when it last did."""
        query = (
            select(audit_table.c.rule_id, func.count(), func.max(audit_table.c.at))
            .where(audit_table.c.rule_id.is_not(None))
            .group_by(audit_table.c.rule_id)
        )
        async with self._store.connect() as connection:
            rows = await connection.execute(query)
            return {row[0]: RuleUse(row[1], row[2]) for row in rows}

    async def deciding_rules(self, conversation_id: str) -> dict[str, str]:
        """The rule that decided each of a conversation's calls a rule decided, by call id."""
        query = select(audit_table.c.tool_use_id, audit_table.c.rule_id).where(
            audit_table.c.conversation_id == conversation_id,
            audit_table.c.decided_by == "rule",
            audit_table.c.rule_id.is_not(None),
        )
        async with self._store.connect() as connection:
            return {row[0]: row[1] for row in await connection.execute(query)}

    # ── the audit trail ─────────────────────────────────────────────────────────────────────
    async def record(self, entry: AuditEntry) -> None:
        values = {**entry.__dict__, "at": time.time()}

        async def step(connection: AsyncConnection) -> None:
            await connection.execute(insert(audit_table).values(**values))

        await self._store.write(step)

    async def record_outcome(self, conversation_id: str, tool_use_id: str, outcome: str) -> None:
        query = (
            update(audit_table)
            .where(
                audit_table.c.conversation_id == conversation_id,
                audit_table.c.tool_use_id == tool_use_id,
            )
            .values(outcome=outcome)
        )

        async def step(connection: AsyncConnection) -> None:
            await connection.execute(query)

        await self._store.write(step)

    async def audit(
        self, filters: dict[str, str], limit: int, before: int | None = None
    ) -> list[JsonDict]:
        """Audit rows newest first; `before` is the id of the last row of the page before."""
        query = select(audit_table).order_by(audit_table.c.id.desc()).limit(limit)
        for name, value in filters.items():
            query = query.where(audit_table.c[name] == value)
        if before is not None:
            query = query.where(audit_table.c.id < before)
        async with self._store.connect() as connection:
            rows = (await connection.execute(query)).mappings()
            # plain str keys: SQLAlchemy's are a str subclass that orjson refuses
            return [{str(key): value for key, value in row.items()} for row in rows]


def _rule(row: Any) -> Rule:
    source: Source = row.source
    return Rule(
        row.id, RuleSpec.model_validate(row.spec), source, row.created_at, row.conversation_id
    )
