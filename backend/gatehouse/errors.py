"""Gatehouse's errors, and the one boundary that turns them into `error` frames.

    GatehouseError (code, status, request_id)
    ├── ModelError        Claude's call failed: HTTP status, stream cut, timeout, missing key
    │   └── PrefillRefused   the model does not go on from its own message (a 400)
    └── ToolCallError     a tool call failed or was refused: invalid_path, write_failed, …

Codes are stable and travel in `detail.code`; the text people read comes from `i18n`.
Exceptions from the SDK are classified here and nowhere else.
"""

from __future__ import annotations

import anthropic
import httpx2

from gatehouse import protocol
from gatehouse.i18n import localize
from gatehouse.settings import Locale


class GatehouseError(Exception):
    def __init__(
        self, code: str, *, status: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.request_id = request_id


class ModelError(GatehouseError):
    """Claude could not give a complete reply."""


class PrefillRefused(ModelError):
    """The model refuses a request that ends with its own message (Claude 4.6 and later):
    a cut reply is then continued from a user turn instead."""


class ToolCallError(GatehouseError):
    """A tool call could not run or failed."""


_STATUS_CODES: dict[int, str] = {
    401: "unauthorized",
    403: "forbidden",
    404: "model_not_found",
    413: "request_too_large",
    429: "rate_limited",
}


def classify_model_exception(exc: BaseException) -> ModelError:
    """Map what the anthropic SDK (or its transport) raised onto one of our codes."""
    if isinstance(exc, ModelError):
        return exc
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
        return ModelError("timeout")
    if isinstance(exc, anthropic.BadRequestError) and "prefill" in exc.message.lower():
        return PrefillRefused("bad_request", status=400, request_id=exc.request_id)
    if isinstance(exc, anthropic.APIStatusError):
        return ModelError(_status_code(exc), status=exc.status_code, request_id=exc.request_id)
    if isinstance(exc, httpx2.TransportError):  # the stream was cut after it started
        return ModelError("stream_interrupted")
    return ModelError("service_unavailable")


def _status_code(exc: anthropic.APIStatusError) -> str:
    if exc.status_code == 400:
        text = str(exc.body if exc.body is not None else exc.message).lower()
        return "credit_balance_too_low" if "credit balance" in text else "bad_request"
    if exc.status_code == 200:  # an `error` event inside a started stream
        return "stream_error"
    if exc.status_code == 529:
        return "overloaded"
    if exc.status_code >= 500:
        return "service_unavailable"
    return _STATUS_CODES.get(exc.status_code, "bad_request")


def error_frame(
    err: GatehouseError,
    locale: Locale,
    *,
    tool_use_id: str | None = None,
    errors: list[str] | None = None,
) -> protocol.Error:
    detail = protocol.ErrorDetail(
        code=err.code,
        status=err.status,
        request_id=err.request_id,
        tool_use_id=tool_use_id,
        errors=errors,
    )
    return protocol.Error(
        data=protocol.ErrorData(message=localize(err.code, locale), detail=detail)
    )
