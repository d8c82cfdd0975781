"""Every way Claude's call can fail becomes a localized `error` frame, and the chat goes on."""

from __future__ import annotations

from typing import Any

import pytest

from tests.model_server import ModelServer
from tests.running_app import AppFactory, Chat, Frame, RunningApp, ended, events, streamed_text

pytestmark = pytest.mark.anyio

UNAVAILABLE = "Serviço da IA indisponível no momento. Tente novamente em instantes."
CREDIT = (
    "Your credit balance is too low to access the Anthropic API. "
    "Please go to Plans & Billing to upgrade or purchase credits."
)
CREDIT_PT = (
    "Saldo insuficiente para usar a API da Anthropic. "
    "Acesse Plans & Billing para adicionar créditos."
)
TOO_LARGE = "Request exceeds the maximum allowed number of bytes."
TOO_LARGE_PT = "A conversa ficou grande demais para a API. Comece uma nova conversa."

HTTP_CASES: list[tuple[int, str, str, int, str, str]] = [
    # status, error type, message, attempts the SDK makes, our code, the pt-BR text
    (400, "invalid_request_error", CREDIT, 1, "credit_balance_too_low", CREDIT_PT),
    (401, "authentication_error", "invalid x-api-key", 1, "unauthorized",
     "Não autorizado. Verifique sua ANTHROPIC_API_KEY."),
    (403, "permission_error", "no permission", 1, "forbidden",
     "Sua chave da API não tem permissão para este recurso."),
    (404, "not_found_error", "model: claude-3-7-sonnet-2025-02-19", 1, "model_not_found",
     "Modelo não encontrado. Verifique ANTHROPIC_MODEL."),
    (413, "request_too_large", TOO_LARGE, 1, "request_too_large", TOO_LARGE_PT),
    (429, "rate_limit_error", "rate limited", 3, "rate_limited",
     "Limite de uso excedido. Aguarde e tente novamente."),
    (500, "api_error", "Internal server error", 3, "service_unavailable", UNAVAILABLE),
    (529, "overloaded_error", "Overloaded", 3, "overloaded", UNAVAILABLE),
]  # fmt: skip


async def _turn_then_recover(app: RunningApp, text: str, locale: str = "pt-BR") -> list[Frame]:
    """One failing turn, then a plain message that must still get its echo."""
    async with Chat(app.ws_url(locale=locale)) as chat:
        frames = await chat.reply_to(text)
        after = await chat.reply_to("still there?")
    assert streamed_text(after).endswith("still there?")
    return frames


def _only_error(frames: list[Frame]) -> dict[str, Any]:
    errors = events(frames, "error")
    assert len(errors) == 1, frames
    assert frames[-1]["event"] == "assistant_message_completed"
    assert ended(frames[-1]) == {"reason": "error"}
    assert frames[-2]["data"] == {"ai_typing": False}
    return errors[0]["data"]


@pytest.mark.parametrize(("status", "kind", "message", "attempts", "code", "text"), HTTP_CASES)
async def test_http_errors_become_localized_error_frames(
    app: RunningApp,
    model: ModelServer,
    status: int,
    kind: str,
    message: str,
    attempts: int,
    code: str,
    text: str,
) -> None:
    model.script(
        {"http_error": {"status": status, "type": kind, "message": message}}, times=attempts
    )
    error = _only_error(await _turn_then_recover(app, "trigger"))
    assert error["message"] == text
    assert error["detail"]["code"] == code
    assert error["detail"]["status"] == status
    assert error["detail"]["request_id"].startswith("req_test_")
    assert len(model.requests) == attempts + 1  # + the recovery turn


async def test_english_is_chosen_per_connection(app: RunningApp, model: ModelServer) -> None:
    model.script({"http_error": {"status": 401, "type": "authentication_error", "message": "no"}})
    error = _only_error(await _turn_then_recover(app, "x", locale="en"))
    assert error["message"] == "Unauthorized. Check your ANTHROPIC_API_KEY."


async def test_retried_errors_never_reach_the_person(app: RunningApp, model: ModelServer) -> None:
    model.script({"http_error": {"status": 429, "type": "rate_limit_error", "message": "slow"}})
    model.script({"text": ["made ", "it"]})
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to("retry me")
    assert events(frames, "error") == []
    assert streamed_text(frames) == "made it"
    assert [r.headers["x-stainless-retry-count"] for r in model.requests] == ["0", "1"]


async def test_a_retry_is_shown_as_reconnecting_until_the_answer_comes(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"http_error": {"status": 529, "type": "overloaded_error", "message": "busy"}})
    model.script({"text": ["back"]})
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to("are you there?")
    assert _reconnecting_flags(frames) == [True, False]
    first_chunk = next(i for i, f in enumerate(frames) if f["event"] == "ai_chunk")
    cleared = next(i for i, f in enumerate(frames) if f["data"].get("reconnecting") is False)
    assert cleared < first_chunk
    assert streamed_text(frames) == "back"


async def test_retries_that_run_out_still_clear_reconnecting(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(ANTHROPIC_MAX_RETRIES="1")
    for _ in range(2):
        model.script({"http_error": {"status": 503, "type": "api_error", "message": "down"}})
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to("hello?")
    assert _reconnecting_flags(frames) == [True, False]
    assert _only_error(frames)["detail"]["code"] == "service_unavailable"


async def test_an_error_event_mid_stream_ends_the_reply_with_an_error(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"text": ["partial ", "reply"], "error_event_after": 1})
    frames = await _turn_then_recover(app, "go")
    assert streamed_text(frames) == "partial "
    error = _only_error(frames)
    assert error["message"] == UNAVAILABLE
    assert error["detail"]["code"] == "stream_error"
    assert len(model.requests) == 2  # a started stream is never retried


async def test_a_dropped_connection_mid_stream_is_an_error(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"text": ["a", "b", "c"], "cut_after": 2})
    frames = await _turn_then_recover(app, "go")
    assert streamed_text(frames) == "ab"
    assert _only_error(frames)["detail"]["code"] == "stream_interrupted"


async def test_a_stream_without_message_stop_is_an_error_not_a_short_reply(
    app: RunningApp, model: ModelServer
) -> None:
    model.script({"text": ["looks ", "complete"], "no_message_stop": True})
    frames = await _turn_then_recover(app, "go")
    assert streamed_text(frames) == "looks complete"
    error = _only_error(frames)
    assert error["detail"]["code"] == "stream_interrupted"
    assert error["message"] == UNAVAILABLE


async def test_a_stalled_stream_times_out(app_factory: AppFactory, model: ModelServer) -> None:
    app = app_factory(ANTHROPIC_TIMEOUT_S="1")
    model.script({"text": ["waiting", "forever"], "stall_after": 1})
    frames = await _turn_then_recover(app, "go")
    error = _only_error(frames)
    assert error["detail"]["code"] == "timeout"
    assert error["message"] == "A IA demorou demais para responder. Tente novamente."


async def test_without_an_api_key_the_server_runs_and_says_unauthorized(
    app_factory: AppFactory, model: ModelServer
) -> None:
    app = app_factory(ANTHROPIC_API_KEY="")
    assert app.get("/health") == (200, '{"status":"ok"}')
    async with Chat(app.ws_url()) as chat:
        frames = await chat.reply_to("hello")
    error = _only_error(frames)
    assert error["message"] == "Não autorizado. Verifique sua ANTHROPIC_API_KEY."
    assert error["detail"] == {"code": "unauthorized"}
    assert model.requests == []


async def test_history_stays_valid_after_a_failed_turn(app: RunningApp, model: ModelServer) -> None:
    model.script({"http_error": {"status": 401, "type": "authentication_error", "message": "no"}})
    await _turn_then_recover(app, "lost turn")
    assert model.requests[-1].body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "lost turn"},
                {"type": "text", "text": "still there?"},
            ],
        }
    ]


def _reconnecting_flags(frames: list[Frame]) -> list[bool]:
    updates = events(frames, "status_update")
    return [f["data"]["reconnecting"] for f in updates if f["data"].get("reconnecting") is not None]
