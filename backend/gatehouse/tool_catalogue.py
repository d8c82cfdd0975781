"""The tools Claude is offered: their names, schemas and input validation.

Rebuilt from the connected servers' listings whenever one connects or goes away. A built-in
tool keeps its own name; another server's tool is offered as `server__tool`, made to fit
Claude's `^[a-zA-Z0-9_-]{1,64}$` (and numbered when two collide). Each input schema gets a
validator for its declared JSON Schema draft, so a call with bad input is refused before the
person is asked about it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import jsonschema
import structlog
from jsonschema.protocols import Validator
from mcp.types import Tool

from gatehouse.builtin_tools import BuiltinTool
from gatehouse.protocol import FilePreview, ToolAnnotations
from gatehouse.sanitise import clean_json, clean_text
from gatehouse.tool_hints import hints_of

log = structlog.get_logger(__name__)

_CLAUDE_NAME_BAD_CHARS = re.compile(r"[^a-zA-Z0-9_-]")
_CLAUDE_NAME_MAX = 64
_MAX_SCHEMA_ERRORS = 10
_DRAFTS: dict[str, type[Validator]] = {
    str(draft.META_SCHEMA.get("$id", draft.META_SCHEMA.get("id", ""))).rstrip("#"): draft
    for draft in (
        jsonschema.Draft4Validator,
        jsonschema.Draft6Validator,
        jsonschema.Draft7Validator,
        jsonschema.Draft201909Validator,
        jsonschema.Draft202012Validator,
    )
}


@dataclass(frozen=True)
class ToolInfo:
    """One tool as Claude sees it, and where it really lives."""

    claude_name: str
    server: str
    mcp_name: str
    input_schema: dict[str, Any]
    destructive: bool
    builtin: bool
    description: str = ""
    behaviour: BuiltinTool | None = None  # what the app does beyond running it (built-in only)
    annotations: ToolAnnotations | None = None  # the hints its server declares, for the person

    @property
    def streamed_field(self) -> str | None:
        return self.behaviour.streamed_field if self.behaviour else None

    @property
    def path_field(self) -> str | None:
        return self.behaviour.path_field if self.behaviour else None

    def preview(self, tool_input: Mapping[str, object]) -> FilePreview | None:
        if self.behaviour is None or self.behaviour.preview is None:
            return None
        return self.behaviour.preview(tool_input)


class Catalogue:
    """Claude's tool list, built from the listings of the servers connected now."""

    def __init__(self, builtin_server: str, builtin_tools: Mapping[str, BuiltinTool]) -> None:
        self._builtin_server = builtin_server
        self._builtin_tools = builtin_tools
        self._tools: dict[str, ToolInfo] = {}
        self._validators: dict[str, Validator | None] = {}
        self._routes: dict[str, str] = {}  # every Claude name ever offered → its server

    def rebuild(self, listings: Iterable[tuple[str, Sequence[Tool]]]) -> None:
        """Recompute the list from each connected server's tools, the built-in server first."""
        tools: dict[str, ToolInfo] = {}
        validators: dict[str, Validator | None] = {}
        for server, listed in listings:
            for tool in listed:
                try:
                    info = self._tool_info(server, tool, tools)
                    validator = _validator_for(server, tool)
                except Exception as exc:  # one odd tool must not take its server's others down
                    log.warning("mcp_tool_skipped", server=server, tool=tool.name, error=repr(exc))
                    continue
                tools[info.claude_name] = info
                validators[info.claude_name] = validator
                self._routes[info.claude_name] = server
        self._tools, self._validators = tools, validators

    def for_claude(self) -> list[dict[str, Any]]:
        """Anthropic tool params for every tool offered now. A built-in tool whose call is
        previewed asks for its input to stream as Claude writes it (`eager_input_streaming`),
        so the person watches the file take shape (tool_drafts.py)."""
        return [_tool_param(info) for info in self._tools.values()]

    def lookup(self, claude_name: str) -> ToolInfo | None:
        return self._tools.get(claude_name)

    def former_server(self, claude_name: str) -> str | None:
        """The server of a tool offered before but not now (its server went away)."""
        if claude_name in self._tools:
            return None
        return self._routes.get(claude_name)

    def validate(self, claude_name: str, tool_input: object) -> list[str]:
        """JSON-schema errors of `tool_input` as short messages; empty when it is valid."""
        if claude_name not in self._tools:
            return [f"unknown tool {claude_name!r}"]
        validator = self._validators.get(claude_name)
        if validator is None:
            return [] if isinstance(tool_input, dict) else ["input must be an object"]
        try:
            found = list(validator.iter_errors(cast(Any, tool_input)))
        except Exception as exc:  # e.g. an unresolvable $ref: leave the checking to the server
            log.warning("mcp_schema_unusable", tool=claude_name, error=repr(exc))
            return []
        errors = sorted(found, key=lambda e: [str(part) for part in e.absolute_path])
        return [_schema_error_text(error) for error in errors[:_MAX_SCHEMA_ERRORS]]

    def _tool_info(self, server: str, tool: Tool, taken: Mapping[str, ToolInfo]) -> ToolInfo:
        builtin = server == self._builtin_server
        annotations = tool.annotations
        read_only = bool(annotations and annotations.read_only_hint)
        # MCP's default for destructiveHint is true: only an explicit false makes it harmless.
        destructive = not read_only and not (annotations and annotations.destructive_hint is False)
        schema = {k: v for k, v in (tool.input_schema or {}).items() if k != "$schema"}
        schema.setdefault("type", "object")
        # A server's texts go to Claude in every request: one unencodable string fails them all.
        schema = clean_json(schema)
        return ToolInfo(
            claude_name=claude_name(tool.name if builtin else f"{server}__{tool.name}", taken),
            server=server,
            mcp_name=tool.name,
            input_schema=schema,
            destructive=destructive,
            builtin=builtin,
            description=clean_text((tool.description or tool.title or tool.name)[:4096]),
            behaviour=self._builtin_tools.get(tool.name) if builtin else None,
            annotations=hints_of(tool),
        )


def _tool_param(info: ToolInfo) -> dict[str, Any]:
    param: dict[str, Any] = {
        "name": info.claude_name,
        "description": info.description,
        "input_schema": info.input_schema,
    }
    if info.behaviour is not None and info.behaviour.preview is not None:
        param["eager_input_streaming"] = True
    return param


def claude_name(raw: str, taken: Mapping[str, object]) -> str:
    """Claude wants `^[a-zA-Z0-9_-]{1,64}$`; MCP allows longer names, dots and more."""
    base = _CLAUDE_NAME_BAD_CHARS.sub("_", raw)[:_CLAUDE_NAME_MAX] or "tool"
    name, number = base, 2
    while name in taken:
        suffix = f"_{number}"
        name = base[: _CLAUDE_NAME_MAX - len(suffix)] + suffix
        number += 1
    return name


def _validator_for(server: str, tool: Tool) -> Validator | None:
    """A validator for the schema's declared draft (2020-12 when it declares none or another)."""
    schema = tool.input_schema or {"type": "object"}
    declared = str(schema.get("$schema", "")).rstrip("#")
    validator_class = _DRAFTS.get(declared, jsonschema.Draft202012Validator)
    try:
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as exc:
        log.warning("mcp_bad_input_schema", server=server, tool=tool.name, error=exc.message)
        return None
    return validator_class(schema)


def _schema_error_text(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(part) for part in error.absolute_path)
    message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return f"{where}: {message}" if where else message
