"""Every setting Gatehouse reads, from the environment or a `.env` file.

One `Settings` object is built at start-up; a bad value stops the process with one line that
names the variable (see `load_settings`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gatehouse.origins import canonical_origin, host_pattern
from gatehouse.usage import DEFAULT_PRICES, ModelPrice

Locale = Literal["pt-BR", "en"]


class SettingsError(Exception):
    """A configuration value is wrong; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Claude
    anthropic_api_key: SecretStr | None = None
    anthropic_model: str = Field(default="claude-sonnet-4-6", min_length=1)
    anthropic_base_url: str | None = None
    anthropic_timeout_s: float = Field(default=120.0, gt=0)
    anthropic_max_retries: int = Field(default=2, ge=0, le=10)
    max_tokens: int = Field(default=4096, ge=1, le=128_000)
    # Extended thinking for new conversations (each conversation can switch it), and the
    # tokens it may use where the model takes a budget; a request then asks for
    # MAX_TOKENS + THINKING_BUDGET_TOKENS, so the answer keeps its own MAX_TOKENS.
    thinking: bool = False
    thinking_budget_tokens: int = Field(default=4096, ge=1024, le=64_000)
    models_cache_s: float = Field(default=300.0, ge=0)  # how long the model list is kept
    generate_titles: bool = True  # Claude names a conversation after its first reply
    title_model: str = Field(default="claude-haiku-4-5", min_length=1)  # a cheap model will do
    system_prompt: str = (
        "You are Gatehouse, a helpful assistant. You may create files in the user's workspace "
        "with the create_file tool; every call is shown to the user, who approves or denies it."
    )
    # cache_control on the tools + system prompt and on the latest turn (README, Usage and cost)
    prompt_caching: bool = True
    # USD per million tokens, by model id or family prefix, over the defaults (gatehouse/usage.py)
    model_prices: dict[str, ModelPrice] = Field(default_factory=dict[str, ModelPrice])

    # Server
    host: str = "127.0.0.1"
    port: int = Field(default=4000, ge=1, le=65535)
    ws_allowed_origins: str = ""  # besides the app's own; `*` allows every origin
    allowed_hosts: str = ""  # Host names besides localhost, 127.0.0.1, [::1] and HOST
    auth_token: SecretStr | None = None
    metrics_token: SecretStr | None = None
    default_locale: Locale = "pt-BR"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    max_message_chars: int = Field(default=32_000, ge=1)
    max_frame_bytes: int = Field(default=1_048_576, ge=1024)
    # attachments (gatehouse/attachments.py): per message, their base64 together, per conversation
    max_attachments: int = Field(default=5, ge=0, le=100)
    max_attachments_bytes: int = Field(default=10 * 1_048_576, ge=0, le=32 * 1_048_576)
    max_conversation_attachments_bytes: int = Field(default=24 * 1_048_576, ge=0, le=32 * 1_048_576)
    max_import_bytes: int = Field(default=20 * 1_048_576, ge=1024)  # an imported conversation
    outbox_frames: int = Field(default=10_000, ge=16)
    ws_compression: bool = False  # permessage-deflate: less bandwidth, more CPU and memory
    rate_limit_per_s: float = Field(default=10.0, gt=0)
    rate_limit_burst: int = Field(default=30, ge=1)
    frontend_dir: Path | None = None
    resume_grace_s: float = Field(default=60.0, ge=0)
    max_connections_per_client: int = Field(default=32, ge=1)  # open sockets per client address
    gc_pacing: bool = True  # `serve` paces garbage collection (gc_pacing.py), where it applies

    # Storage
    database_url: str = Field(default="sqlite:///gatehouse.db", min_length=1)

    # Worker processes on one port (`serve --workers N`). Several need PostgreSQL and Redis
    # (REDIS_URL, see check_workers); with REDIS_URL set, sessions are shared through it
    # (shared_sessions.py), and a turn is owned through a lease of TURN_LEASE_MS: a dead
    # worker's turns are taken over about that long after it died. Renewals (a third of it
    # apart, every lease of a worker in one round trip) survive a stalled loop of up to 1 s.
    workers: int = Field(default=1, ge=1, le=64)
    redis_url: str | None = None
    turn_lease_ms: int = Field(default=1_500, ge=300, le=600_000)
    # With REDIS_URL: a conversation unchanged this long, with no turn open, has its logged
    # frames dropped (frame_janitor.py); a client back later gets the history instead.
    frame_retention_s: float = Field(default=3_600.0, ge=1, le=30 * 86_400)

    # Tools
    workspace_dir: Path = Path("workspace")
    mcp_config: Path | None = None
    policy_file: Path | None = None  # operator's approval rules, JSON or TOML (policy_file.py)
    tool_chunk_bytes: int = Field(default=4096, ge=1, le=1_048_576)
    max_file_bytes: int = Field(default=10 * 1_048_576, ge=1)
    tool_approval_timeout_s: float = Field(default=300.0, gt=0)
    tool_call_timeout_s: float = Field(default=120.0, gt=0)
    # The draft of a call Claude is still writing (`tool_input_delta`): fine-grained input
    # streaming is asked for, and frames are sent at most this often, up to this many
    # characters per call.
    eager_input_streaming: bool = True
    tool_draft_interval_ms: int = Field(default=100, ge=0, le=10_000)
    tool_draft_max_chars: int = Field(default=262_144, ge=0)

    # File versions (file_versions.py)
    data_dir: Path = Path("data")  # blobs of kept versions under data_dir/versions
    version_max_bytes: int = Field(default=10 * 1_048_576, ge=0)  # larger: hash only
    versions_keep_days: float = Field(default=30.0, ge=0)  # 0: no age limit
    versions_keep_per_file: int = Field(default=50, ge=0)  # 0: no count limit

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator(
        "anthropic_api_key",
        "auth_token",
        "metrics_token",
        "anthropic_base_url",
        "redis_url",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        backend = value.split(":", 1)[0].split("+", 1)[0]
        if backend not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("use a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str | None) -> str | None:
        if value is not None and value.split(":", 1)[0] not in ("redis", "rediss", "unix"):
            raise ValueError("use a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("ws_allowed_origins")
    @classmethod
    def _origins_can_match(cls, value: str) -> str:
        for entry in _entries(value):
            if entry != "*":
                canonical_origin(entry)
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts_can_match(cls, value: str) -> str:
        for entry in _entries(value):
            host_pattern(entry)
        return value

    @property
    def allowed_origins(self) -> frozenset[str]:
        """The origins listed besides the app's own, as browsers write them; may hold `*`."""
        entries = _entries(self.ws_allowed_origins)
        return frozenset(e if e == "*" else canonical_origin(e) for e in entries)

    @property
    def ws_max_frame_bytes(self) -> int:
        """The largest frame the socket takes: a message with its attachments. Any other frame
        is still held to `max_frame_bytes` (gateway)."""
        return self.max_frame_bytes + (self.max_attachments_bytes if self.max_attachments else 0)

    @property
    def prices(self) -> dict[str, ModelPrice]:
        return {**DEFAULT_PRICES, **self.model_prices}

    @property
    def allowed_host_names(self) -> list[str]:
        return [host_pattern(entry) for entry in _entries(self.allowed_hosts)]


def _entries(value: str) -> list[str]:
    return [entry.strip() for entry in value.split(",") if entry.strip()]


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning a validation failure into one readable line."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        variable = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        raise SettingsError(f"invalid {variable}: {first['msg']}") from None
    _check_data_dir(settings)
    return settings


def _check_data_dir(settings: Settings) -> None:
    """Kept versions must stay out of the tools' reach: DATA_DIR outside WORKSPACE_DIR."""
    workspace = os.path.realpath(settings.workspace_dir)
    data = os.path.realpath(settings.data_dir)
    if os.path.commonpath([workspace, data]) == workspace:
        raise SettingsError("invalid DATA_DIR: it must not be inside WORKSPACE_DIR")


def check_workers(settings: Settings) -> None:
    """`serve` with several workers needs PostgreSQL (one store they all write) and Redis (what
    crosses processes); one worker needs neither."""
    if settings.workers == 1:
        return
    if not settings.database_url.startswith(("postgresql", "postgres")):
        raise SettingsError(
            f"invalid WORKERS: {settings.workers} workers need DATABASE_URL on PostgreSQL, "
            "not SQLite"
        )
    if settings.redis_url is None:
        raise SettingsError(f"invalid WORKERS: {settings.workers} workers need REDIS_URL")
