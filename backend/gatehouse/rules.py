"""Approval rules: which tool calls run without asking, which are refused, which always ask.

A rule has an effect (allow | deny | ask), a server (a name, or `*`), a tool glob (`create_*`),
optional conditions on the call's input (a path glob on a named field, or an exact value or
a regular expression on another), a scope (one conversation, or everywhere) and a source
(the approval dialog, the Rules page, or the operator's policy file).

Precedence, for the rules that match a call:
1. a **deny** rule refuses the call, whatever else matches;
2. an **ask** rule makes the person decide, even where an allow matches;
3. an **allow** rule runs it without asking, unless the **safety floor** holds the call;
4. no rule: the person decides.
Within one effect the more specific rule is the one reported (more conditions, then a
conversation's rule over an everywhere one, then more literal characters in its globs).

The safety floor: a call whose path-like field names a dot-folder or dot-file (`.git/**`,
`.env*`, `.ssh/…`) or a path that could leave the workspace (absolute, `~`, `..`) is always
asked about: no allow rule applies to it, and a deny rule still refuses it. (`create_file`'s
paths outside the workspace are refused before any rule is consulted.)

This module is pure: matching takes rules and a call and returns a verdict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Literal, Protocol, cast

import re2  # pyright: ignore[reportMissingTypeStubs]
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from wcmatch import glob as wcglob

from gatehouse.safe_paths import InvalidPath, normalise_relative

Effect = Literal["allow", "deny", "ask"]
Source = Literal["dialog", "settings", "policy_file"]

MAX_REGEX_CHARS = 200
MAX_GLOB_CHARS = 256
MAX_CONDITIONS = 8
MAX_MATCHED_CHARS = 100_000  # longer values never match a condition (they are asked about)
# Input fields whose value names a file, for tools that do not declare theirs.
_PATH_LIKE = re.compile(
    r"^(path|paths|file|filename|filepath|file_path|dir|directory|folder|source|destination|"
    r"target|src|dst|dest|.+_path|.+_file|.+_dir)$",
    re.IGNORECASE,
)
_GLOB_FLAGS = wcglob.GLOBSTAR | wcglob.BRACE | wcglob.NEGATE
_NAME = r"^[A-Za-z0-9_.*?\[\]\-]+$"


class Condition(BaseModel):
    """One test on one input field; exactly one of `path_glob`, `equals`, `regex`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: Annotated[str, Field(min_length=1, max_length=64)]
    path_glob: Annotated[str | None, Field(max_length=MAX_GLOB_CHARS)] = None
    equals: Annotated[str | None, Field(max_length=MAX_MATCHED_CHARS)] = None
    regex: Annotated[str | None, Field(max_length=MAX_REGEX_CHARS)] = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        if sum(test is not None for test in (self.path_glob, self.equals, self.regex)) != 1:
            raise ValueError("a condition needs exactly one of path_glob, equals, regex")
        return self

    @field_validator("path_glob")
    @classmethod
    def _relative_glob(cls, glob: str | None) -> str | None:
        if glob is None:
            return None
        if not glob or "\x00" in glob or glob.startswith(("/", "~")) or "\\" in glob:
            raise ValueError("a path glob is relative to the workspace, like notes/**")
        if ".." in glob.split("/"):
            raise ValueError("a path glob may not contain '..'")
        return glob

    @field_validator("regex")
    @classmethod
    def _safe_regex(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            _compiled(pattern)  # RE2: linear time, no backtracking; raises on bad syntax
        return pattern

    def matches(self, tool_input: Mapping[str, object]) -> bool:
        value = tool_input.get(self.field)
        if not isinstance(value, str) or len(value) > MAX_MATCHED_CHARS:
            return False
        if self.path_glob is not None:
            path = _normal_path(value)
            return path is not None and _glob(self.path_glob, _GLOB_FLAGS).match(path)
        if self.equals is not None:
            return value == self.equals
        assert self.regex is not None
        return _compiled(self.regex).fullmatch(value) is not None  # pyright: ignore


class RuleSpec(BaseModel):
    """What a person or the policy file writes: a rule before it has an id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    effect: Effect
    server: Annotated[str, Field(min_length=1, max_length=64, pattern=_NAME)] = "*"
    tool: Annotated[str, Field(min_length=1, max_length=128, pattern=_NAME)] = "*"
    conditions: Annotated[tuple[Condition, ...], Field(max_length=MAX_CONDITIONS)] = ()
    note: Annotated[str, Field(max_length=200)] = ""

    @field_validator("server", "tool")
    @classmethod
    def _valid_glob(cls, glob: str) -> str:
        try:
            wcglob.translate(glob, flags=_GLOB_FLAGS)
        except Exception as exc:  # wcmatch's errors have no common base
            raise ValueError(f"not a valid glob: {exc}") from None
        return glob


@dataclass(frozen=True)
class Rule:
    id: str
    spec: RuleSpec
    source: Source
    created_at: float
    conversation_id: str | None = None  # None: everywhere

    @property
    def effect(self) -> Effect:
        return self.spec.effect

    @property
    def label(self) -> str:
        """A short name for the person: `notes/**`, else `server:tool`."""
        globs = [c.path_glob for c in self.spec.conditions if c.path_glob]
        return globs[0] if globs else f"{self.spec.server}:{self.spec.tool}"

    def matches(self, call: Call) -> bool:
        if self.conversation_id is not None and self.conversation_id != call.conversation_id:
            return False
        if not _name_matches(call.server, self.spec.server):
            return False
        if not _name_matches(call.tool, self.spec.tool):
            return False
        return all(condition.matches(call.input) for condition in self.spec.conditions)

    @property
    def specificity(self) -> tuple[int, int, int]:
        literal = _literal_chars(self.spec.server) + _literal_chars(self.spec.tool)
        literal += sum(_literal_chars(c.path_glob or c.regex or "x") for c in self.spec.conditions)
        return (len(self.spec.conditions), self.conversation_id is not None, literal)


@dataclass(frozen=True)
class Call:
    """What a rule is matched against."""

    conversation_id: str
    server: str
    tool: str  # the tool's name on its own server (`create_file`)
    input: Mapping[str, object]
    path_fields: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Verdict:
    effect: Effect  # allow: runs unasked; deny: refused unasked; ask: the person decides
    rule: Rule | None = None  # the rule that decided (None: no rule, or the floor)
    floor: str | None = None  # why the safety floor holds the call, when it does


def decide(rules: Iterable[Rule], call: Call) -> Verdict:
    """The verdict of `rules` on `call` (precedence in the module docstring)."""
    matching = [rule for rule in rules if rule.matches(call)]
    floor = safety_floor(call)
    for effect in ("deny", "ask", "allow"):
        candidates = [rule for rule in matching if rule.effect == effect]
        if not candidates:
            continue
        best = max(candidates, key=lambda rule: rule.specificity)
        if effect == "allow" and floor is not None:
            return Verdict("ask", None, floor)
        return Verdict(effect, best, floor)
    return Verdict("ask", None, floor)


def safety_floor(call: Call) -> str | None:
    """Why no allow rule may run this call unasked, or None."""
    for name in call.path_fields:
        value = call.input.get(name)
        if not isinstance(value, str):
            continue
        path = _normal_path(value)
        if path is None:
            return "outside_workspace"
        if any(part.startswith(".") for part in path.split("/")):
            return "dot_path"
    return None


def path_fields(input_: Mapping[str, object], declared: str | None) -> tuple[str, ...]:
    """The input fields naming a path: the tool's declared one, else path-like names."""
    if declared is not None:
        return (declared,)
    return tuple(name for name, value in input_.items() if _is_path_like(name, value))


def proposed_glob(input_: Mapping[str, object], fields: tuple[str, ...]) -> str | None:
    """The folder of the call's first path, as a glob the dialog offers (`notes/**`)."""
    for name in fields:
        value = input_.get(name)
        path = _normal_path(value) if isinstance(value, str) else None
        if path is None:
            continue
        folder = path.rpartition("/")[0]
        return f"{_escape_glob(folder)}/**" if folder else _escape_glob(path)
    return None


def _is_path_like(name: str, value: object) -> bool:
    return isinstance(value, str) and _PATH_LIKE.match(name) is not None


def _normal_path(value: str) -> str | None:
    """The path in its normal form, or None when it could leave the workspace."""
    if value.startswith(("/", "~")) or not value:
        return None
    try:
        return normalise_relative(value)
    except InvalidPath:
        return None


def _name_matches(name: str, glob: str) -> bool:
    return glob == "*" or _glob(glob, _GLOB_FLAGS | wcglob.DOTGLOB).match(name)


class _Matcher(Protocol):
    def match(self, filename: str) -> bool: ...


@lru_cache(maxsize=1024)
def _glob(pattern: str, flags: int) -> _Matcher:
    """A compiled glob (wcmatch's own matcher), kept: rules are matched on every call."""
    return cast(_Matcher, wcglob.compile(pattern, flags=flags))


def _literal_chars(glob: str) -> int:
    return sum(char not in "*?[]{}!" for char in glob)


def _escape_glob(path: str) -> str:
    """wcmatch's escape, less its escaping of `-`: a hyphen means nothing under our flags
    (no MINUSNEGATE), and a person reads `my-notes/**` better than `my\\-notes/**`."""
    return wcglob.escape(path).replace("\\-", "-")


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re2._Regexp:  # pyright: ignore
    options = re2.Options()  # pyright: ignore
    options.max_mem = 1 << 20  # pyright: ignore
    try:
        return re2.compile(pattern, options)  # pyright: ignore
    except re2.error as exc:  # pyright: ignore
        raise ValueError(f"not a valid regular expression: {exc}") from None
