"""Tokens and cost: what Claude reports as `usage` for a reply, priced per model.

A reply's usage comes from its stream: `message_start` carries the input counts (the prompt
cache's reads and writes apart), `message_delta` the output count and, on some replies, new
input counts, which replace the earlier ones (as the SDK's accumulator does). Its cost is priced
with the table for the model that answered, at the moment it answered, and stored with it: a
later change of prices does not rewrite what a past reply cost. A model the table does not know
has its tokens counted and its cost unknown (None), and so has any sum that includes one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

JsonDict = dict[str, Any]
PER = Decimal(1_000_000)  # prices are per million tokens
COUNTS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


class ModelPrice(BaseModel):
    """USD per million tokens. `cache_write` is the 5-minute cache's write price."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: Decimal = Field(ge=0)
    output: Decimal = Field(ge=0)
    cache_write: Decimal = Field(ge=0)
    cache_read: Decimal = Field(ge=0)


def _price(input: str, output: str, cache_write: str, cache_read: str) -> ModelPrice:
    return ModelPrice(
        input=Decimal(input),
        output=Decimal(output),
        cache_write=Decimal(cache_write),
        cache_read=Decimal(cache_read),
    )


# Anthropic's published prices (USD per million tokens), keyed by model id or a family prefix;
# `MODEL_PRICES` adds to or replaces them. Models not listed have an unknown cost.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "claude-opus-4-5": _price("5", "25", "6.25", "0.50"),
    "claude-opus-4-1": _price("15", "75", "18.75", "1.50"),
    "claude-opus-4-0": _price("15", "75", "18.75", "1.50"),
    "claude-opus-4-20250514": _price("15", "75", "18.75", "1.50"),
    "claude-sonnet-4": _price("3", "15", "3.75", "0.30"),
    "claude-3-7-sonnet": _price("3", "15", "3.75", "0.30"),
    "claude-haiku-4-5": _price("1", "5", "1.25", "0.10"),
    "claude-3-5-haiku": _price("0.80", "4", "1", "0.08"),
    "claude-3-haiku": _price("0.25", "1.25", "0.30", "0.03"),
}


def price_for(model: str, prices: Mapping[str, ModelPrice]) -> ModelPrice | None:
    """The entry for `model`: its own id, else the longest family prefix it starts with
    (`claude-sonnet-4` prices `claude-sonnet-4-6` and `claude-sonnet-4-20250514`)."""
    matches = [key for key in prices if model == key or model.startswith(key + "-")]
    return prices[max(matches, key=len)] if matches else None


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cost_usd: Decimal | None = Decimal(0)  # None: a model without a price took part
    model: str | None = None

    @classmethod
    def from_api(cls, reported: Mapping[str, Any], model: str | None) -> Usage:
        """The counts of a `usage` object as the API sends it (absent or null counts are 0)."""
        return _counted(reported, model=model)

    def updated(self, reported: Mapping[str, Any]) -> Usage:
        """`message_delta`'s usage: its counts replace the ones it carries."""
        counts = {key: int(reported[key]) for key in COUNTS if reported.get(key) is not None}
        return replace(self, **counts)

    def priced(self, prices: Mapping[str, ModelPrice]) -> Usage:
        price = price_for(self.model, prices) if self.model else None
        if price is None:
            return replace(self, cost_usd=None)
        cost = (
            self.input_tokens * price.input
            + self.output_tokens * price.output
            + self.cache_creation_input_tokens * price.cache_write
            + self.cache_read_input_tokens * price.cache_read
        ) / PER
        return replace(self, cost_usd=cost)

    def __add__(self, other: Usage) -> Usage:
        cost = (
            None
            if self.cost_usd is None or other.cost_usd is None
            else self.cost_usd + other.cost_usd
        )
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
            cache_creation_input_tokens=(
                self.cache_creation_input_tokens + other.cache_creation_input_tokens
            ),
            cost_usd=cost,
            model=other.model or self.model,
        )

    def to_json(self) -> JsonDict:
        """As stored with the message; the cost as a decimal string, so it is kept exactly."""
        stored: JsonDict = {key: getattr(self, key) for key in COUNTS}
        stored["cost_usd"] = None if self.cost_usd is None else str(self.cost_usd)
        stored["model"] = self.model
        return stored

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> Usage:
        cost = stored.get("cost_usd")
        priced = None if cost is None else Decimal(cost)
        return replace(_counted(stored, model=stored.get("model")), cost_usd=priced)


def _counted(source: Mapping[str, Any], *, model: str | None) -> Usage:
    """The four counts of `source` (absent or null: 0)."""

    def count(key: str) -> int:
        return int(source.get(key) or 0)

    return Usage(
        input_tokens=count("input_tokens"),
        output_tokens=count("output_tokens"),
        cache_read_input_tokens=count("cache_read_input_tokens"),
        cache_creation_input_tokens=count("cache_creation_input_tokens"),
        model=model,
    )


def total(usages: Iterable[Usage | None]) -> Usage | None:
    """The sum of the known usages; None when there is none."""
    known = [usage for usage in usages if usage is not None]
    if not known:
        return None
    result = known[0]
    for usage in known[1:]:
        result = result + usage
    return result
