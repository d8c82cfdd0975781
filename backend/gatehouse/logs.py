"""Structured logs: one JSON object a line on stderr, with level, ISO time and context.

`session_id` and `tool_use_id` are bound as context variables where they are known, so every
line a turn writes carries them.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure(level: str) -> None:
    numeric = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Libraries that use the standard logging module (uvicorn, mcp) go to stderr at our level.
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr, force=True)
