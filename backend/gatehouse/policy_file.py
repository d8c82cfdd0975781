"""The operator's policy file (`POLICY_FILE`): approval rules for everyone, JSON or TOML.

    {"rules": [{"effect": "deny", "server": "workspace", "tool": "create_file",
                "conditions": [{"field": "path", "path_glob": "secrets/**"}]}]}

or the same in TOML (`[[rules]]` tables, by the `.toml` suffix). Read at start-up (a bad file
stops start-up with one line naming it) and again whenever it changes (watched with
`watchfiles`): a bad file then is logged as `policy_file_invalid` and the rules already in
force stay.
"""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path
from typing import Annotated

import orjson
import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from watchfiles import awatch  # pyright: ignore[reportUnknownVariableType]

from gatehouse.policy import Policy
from gatehouse.rules import RuleSpec

log = structlog.get_logger(__name__)

MAX_FILE_BYTES = 1_048_576
MAX_RULES = 1000


class PolicyFileError(Exception):
    """The file cannot be read or is not a valid policy; the message names what is wrong."""


class _PolicyDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: Annotated[list[RuleSpec], Field(max_length=MAX_RULES)] = []


def read_policy_file(path: Path) -> list[RuleSpec]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyFileError(f"POLICY_FILE: cannot read {path}: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise PolicyFileError(f"POLICY_FILE: {path} is larger than {MAX_FILE_BYTES} bytes")
    try:
        parsed = tomllib.loads(raw.decode()) if path.suffix == ".toml" else orjson.loads(raw)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, orjson.JSONDecodeError) as exc:
        raise PolicyFileError(f"POLICY_FILE: {path} is not valid: {exc}") from None
    try:
        return _PolicyDocument.model_validate(parsed).rules
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the top level"
        raise PolicyFileError(f"POLICY_FILE: {path}: {where}: {first['msg']}") from None


class PolicyFileWatcher:
    """Loads the file into the policy now, and again on every change until closed."""

    def __init__(self, path: Path, policy: Policy) -> None:
        self._path = path
        self._policy = policy
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._policy.set_file_rules(read_policy_file(self._path))  # a bad file stops start-up
        log.info("policy_file_loaded", path=str(self._path), rules=len(self._policy.rules()))
        self._task = asyncio.create_task(self._watch(), name="policy-file")

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    def reload(self) -> None:
        try:
            specs = read_policy_file(self._path)
        except PolicyFileError as exc:
            log.error("policy_file_invalid", error=str(exc), kept="the rules already in force")
            return
        self._policy.set_file_rules(specs)
        log.info("policy_file_reloaded", path=str(self._path), rules=len(specs))

    async def _watch(self) -> None:
        # The folder, not the file: editors and deploy tools replace a file by renaming.
        target = self._path.resolve()
        async for changes in awatch(target.parent, stop_event=self._stop, debounce=200):
            if any(Path(changed).resolve() == target for _, changed in changes):
                self.reload()
