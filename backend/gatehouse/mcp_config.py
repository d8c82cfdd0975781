"""Read the `MCP_CONFIG` file: extra MCP servers, in Claude Desktop's `mcpServers` format.

```json
{"mcpServers": {
   "time": {"command": "uvx", "args": ["mcp-server-time"], "env": {"TZ": "${TZ:-UTC}"}},
   "docs": {"type": "http", "url": "https://example.test/mcp",
            "headers": {"Authorization": "Bearer ${DOCS_TOKEN}"}}}}
```

An entry with `command` is a stdio server (`args`, `env`, `cwd` optional); one with `url` (or
`type: "http"`) is a streamable HTTP server (`headers` optional). `${VAR}` and `${VAR:-default}`
are expanded from the environment in every string value except the server names. Any problem
raises `McpConfigError` with one line naming the file or server and what is wrong.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

RESERVED_NAME = "workspace"  # the built-in server
_SERVER_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_HTTP_TYPES = ("http", "streamable-http", "streamableHttp")


class McpConfigError(Exception):
    """The MCP_CONFIG file is unusable; the message is one line."""


@dataclass(frozen=True)
class StdioServerConfig:
    name: str
    command: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=lambda: {})
    cwd: str | None = None


@dataclass(frozen=True)
class HttpServerConfig:
    name: str
    url: str
    headers: Mapping[str, str] = field(default_factory=lambda: {})


ServerConfig = StdioServerConfig | HttpServerConfig


def load_mcp_config(path: Path, environ: Mapping[str, str] | None = None) -> list[ServerConfig]:
    """Read and check the file at `path`; `environ` (default `os.environ`) feeds `${VAR}`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise McpConfigError(f"MCP_CONFIG: file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise McpConfigError(f"MCP_CONFIG: cannot read {path}: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise McpConfigError(
            f"MCP_CONFIG: {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg})"
        ) from None
    return parse_mcp_config(document, os.environ if environ is None else environ)


def parse_mcp_config(document: object, environ: Mapping[str, str]) -> list[ServerConfig]:
    """Turn a decoded `{"mcpServers": {...}}` document into server configs."""
    if not isinstance(document, dict):
        raise McpConfigError("MCP_CONFIG: the top level must be a JSON object")
    servers = cast(dict[str, Any], document).get("mcpServers", {})
    if not isinstance(servers, dict):
        raise McpConfigError("MCP_CONFIG: 'mcpServers' must be an object")
    return [
        _parse_server(name, entry, environ) for name, entry in cast(dict[str, Any], servers).items()
    ]


def _parse_server(name: str, entry: object, environ: Mapping[str, str]) -> ServerConfig:
    if name == RESERVED_NAME:
        raise McpConfigError(f"MCP server '{name}': the name is reserved for the built-in server")
    if not _SERVER_NAME.match(name):
        raise McpConfigError(
            f"MCP server {name!r}: the name must be 1-40 letters, digits, '_' or '-'"
        )
    if not isinstance(entry, dict):
        raise McpConfigError(f"MCP server '{name}': the entry must be an object")
    fields = _Fields(name, cast(dict[str, Any], entry), environ)
    kind = fields.optional_string("type")
    if kind is None:
        kind = "http" if "url" in fields.entry else "stdio"
    if kind == "stdio":
        return StdioServerConfig(
            name=name,
            command=fields.required_string("command"),
            args=tuple(fields.string_list("args")),
            env=fields.string_map("env"),
            cwd=fields.optional_string("cwd"),
        )
    if kind in _HTTP_TYPES:
        url = fields.required_string("url")
        if not url.startswith(("http://", "https://")):
            raise McpConfigError(f"MCP server '{name}': 'url' must start with http:// or https://")
        return HttpServerConfig(name=name, url=url, headers=fields.string_map("headers"))
    raise McpConfigError(
        f"MCP server '{name}': unknown transport type {kind!r} (use 'stdio' or 'http')"
    )


def expand_variables(value: str, environ: Mapping[str, str]) -> str:
    """Expand `${VAR}` (empty when unset) and `${VAR:-default}` (default when unset or empty)."""

    def replace(match: re.Match[str]) -> str:
        current = environ.get(match.group(1), "")
        default = match.group(2)
        return current if current or default is None else default

    return _VARIABLE.sub(replace, value)


@dataclass
class _Fields:
    """Typed reads of one server entry, with errors that name the server and the key."""

    server: str
    entry: dict[str, Any]
    environ: Mapping[str, str]

    def _fail(self, key: str, problem: str) -> McpConfigError:
        return McpConfigError(f"MCP server '{self.server}': '{key}' {problem}")

    def optional_string(self, key: str) -> str | None:
        value = self.entry.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._fail(key, "must be a string")
        return expand_variables(value, self.environ)

    def required_string(self, key: str) -> str:
        value = self.optional_string(key)
        if not value:
            raise self._fail(key, "is missing or empty")
        return value

    def string_list(self, key: str) -> list[str]:
        value = self.entry.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(item, str) for item in cast(list[Any], value)
        ):
            raise self._fail(key, "must be a list of strings")
        return [expand_variables(item, self.environ) for item in cast(list[str], value)]

    def string_map(self, key: str) -> dict[str, str]:
        value = self.entry.get(key, {})
        if not isinstance(value, dict) or not all(
            isinstance(item, str) for item in cast(dict[str, Any], value).values()
        ):
            raise self._fail(key, "must be an object of strings")
        return {
            k: expand_variables(v, self.environ) for k, v in cast(dict[str, str], value).items()
        }
