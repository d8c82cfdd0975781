"""The models a conversation may pick: the API's models list, kept for `MODELS_CACHE_S`.

When the list is unavailable (no key, an error, a proxy that does not route it), the only
model offered is `ANTHROPIC_MODEL`, flagged as a fallback, and the list is asked again after a
short while. The configured model is always accepted, listed or not (it may be an alias).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import structlog

from gatehouse.errors import ModelError
from gatehouse.llm import Claude, ModelInfo

log = structlog.get_logger(__name__)

FALLBACK_RETRY_S = 10.0  # a list that failed is asked again this soon, not after the cache time


@dataclass(frozen=True)
class Models:
    models: list[ModelInfo]
    default: str
    fallback: bool  # the list was unavailable: only the default is offered

    def offers(self, model: str) -> bool:
        return model == self.default or any(info.id == model for info in self.models)


class ModelList:
    def __init__(self, claude: Claude, default: str, cache_s: float) -> None:
        self._claude = claude
        self._default = default
        self._cache_s = cache_s
        self._cached: Models | None = None
        self._until = 0.0
        self._lock = asyncio.Lock()  # one request to the API, however many ask at once

    async def current(self) -> Models:
        async with self._lock:
            if self._cached is None or time.monotonic() >= self._until:
                self._cached = await self._fetch()
                keep = FALLBACK_RETRY_S if self._cached.fallback else self._cache_s
                self._until = time.monotonic() + min(keep, self._cache_s)
            return self._cached

    async def offers(self, model: str) -> bool:
        return model == self._default or (await self.current()).offers(model)

    async def _fetch(self) -> Models:
        try:
            models = await self._claude.list_models()
        except ModelError as err:
            log.warning("models_list_unavailable", code=err.code, status=err.status)
            return Models([ModelInfo(self._default, self._default)], self._default, fallback=True)
        return Models(models, self._default, fallback=False)
