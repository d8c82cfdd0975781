"""Prometheus metrics, exported as text at `/metrics`.

All metrics live in one registry owned by this module so the names are easy to find.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from gatehouse.usage import Usage

REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

WS_CONNECTIONS_TOTAL = Counter(
    "gatehouse_websocket_connections",
    "WebSocket connections accepted.",
    registry=REGISTRY,
)
WS_CONNECTIONS_ACTIVE = Gauge(
    "gatehouse_websocket_connections_active",
    "WebSocket connections open now.",
    registry=REGISTRY,
)
WS_REFUSED_TOTAL = Counter(
    "gatehouse_websocket_refused",
    "WebSocket handshakes refused, by reason.",
    ["reason"],
    registry=REGISTRY,
)
HTTP_REFUSED_TOTAL = Counter(
    "gatehouse_http_refused",
    "HTTP requests refused for their Host or Origin, by reason.",
    ["reason"],
    registry=REGISTRY,
)
FRAME_ROWS_DROPPED_TOTAL = Counter(
    "gatehouse_frame_log_rows_dropped",
    "Frame-log rows that could not be written (each is one conversation's run of frames).",
    registry=REGISTRY,
)
STORE_WRITER_ERRORS_TOTAL = Counter(
    "gatehouse_store_writer_errors",
    "Unexpected errors inside the store's writer; the writes it held were failed.",
    registry=REGISTRY,
)
INVALID_FRAMES_TOTAL = Counter(
    "gatehouse_invalid_frames",
    "Client frames rejected, by error.",
    ["error"],
    registry=REGISTRY,
)
ANTHROPIC_REQUESTS_TOTAL = Counter(
    "gatehouse_anthropic_requests",
    "Streams requested from Claude, by outcome (ok or an error code).",
    ["outcome"],
    registry=REGISTRY,
)
STREAM_DURATION = Histogram(
    "gatehouse_anthropic_stream_duration_seconds",
    "Time from the request to the end of one Claude stream.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
TIME_TO_FIRST_TOKEN = Histogram(
    "gatehouse_anthropic_time_to_first_token_seconds",
    "Time from the request to the first text delta of a stream.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
RESUME_DURATION = Histogram(
    "gatehouse_resume_duration_seconds",
    "Time to replay what a returning client missed and attach it live.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
RESUMES_TOTAL = Counter(
    "gatehouse_resumes",
    "Connections that resumed an existing conversation.",
    registry=REGISTRY,
)
TOOL_APPROVALS_TOTAL = Counter(
    "gatehouse_tool_approvals",
    "Tool approval decisions (approved, denied, timeout).",
    ["decision"],
    registry=REGISTRY,
)
TOOL_DECISIONS_TOTAL = Counter(
    "gatehouse_tool_decisions",
    "Tool calls decided, by who or what decided (person, rule, timeout, expiry).",
    ["source"],
    registry=REGISTRY,
)
TOOL_APPROVAL_LATENCY = Histogram(
    "gatehouse_tool_approval_latency_seconds",
    "Time from a tool_request to the person's decision.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
TOOL_CALLS_TOTAL = Counter(
    "gatehouse_tool_calls",
    "Tool calls run, by tool and outcome (ok or an error code).",
    ["tool", "outcome"],
    registry=REGISTRY,
)
TOOL_DURATION = Histogram(
    "gatehouse_tool_duration_seconds",
    "Time a tool call took to run, after approval.",
    ["tool"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
TOOL_BYTES_WRITTEN_TOTAL = Counter(
    "gatehouse_tool_bytes_written",
    "Bytes written to the workspace by create_file.",
    registry=REGISTRY,
)
MCP_ERRORS_TOTAL = Counter(
    "gatehouse_mcp_errors",
    "MCP connection or call failures, by server.",
    ["server"],
    registry=REGISTRY,
)


def render() -> bytes:
    return generate_latest(REGISTRY)


TOKENS_TOTAL = Counter(
    "gatehouse_tokens",
    "Tokens of Claude's replies, by kind (input, output, cache_read, cache_creation) and model.",
    ["kind", "model"],
    registry=REGISTRY,
)
COST_USD_TOTAL = Counter(
    "gatehouse_cost_usd",
    "Cost of Claude's replies in USD, by model (replies of an unpriced model are not counted).",
    ["model"],
    registry=REGISTRY,
)
UNPRICED_REPLIES_TOTAL = Counter(
    "gatehouse_unpriced_replies",
    "Replies of a model with no price in the table (their cost is unknown), by model.",
    ["model"],
    registry=REGISTRY,
)


def count_usage(usage: Usage) -> None:
    model = usage.model or "unknown"
    TOKENS_TOTAL.labels(kind="input", model=model).inc(usage.input_tokens)
    TOKENS_TOTAL.labels(kind="output", model=model).inc(usage.output_tokens)
    TOKENS_TOTAL.labels(kind="cache_read", model=model).inc(usage.cache_read_input_tokens)
    TOKENS_TOTAL.labels(kind="cache_creation", model=model).inc(usage.cache_creation_input_tokens)
    if usage.cost_usd is None:
        UNPRICED_REPLIES_TOTAL.labels(model=model).inc()
    else:
        COST_USD_TOTAL.labels(model=model).inc(float(usage.cost_usd))
