"""Text shown to people, by stable code and locale (pt-BR by default, as in the seed).

Programs read `detail.code`; people read the localized `message`. Gatehouse's own UI words
every code from its catalogue (frontend/lib/i18n.ts), which the type checker holds to the
codes listed here (`ERROR_CODES`, the protocol schema's `ErrorCode`); these texts serve the
seed's clients, which show `message` as it comes.
"""

from __future__ import annotations

from typing import Final

from gatehouse.settings import Locale

LOCALES: Final[tuple[Locale, ...]] = ("pt-BR", "en")

_MESSAGES: Final[dict[str, dict[Locale, str]]] = {
    "credit_balance_too_low": {
        "pt-BR": "Saldo insuficiente para usar a API da Anthropic. "
        "Acesse Plans & Billing para adicionar créditos.",
        "en": "Your Anthropic credit balance is too low. Go to Plans & Billing to add credits.",
    },
    "unauthorized": {
        "pt-BR": "Não autorizado. Verifique sua ANTHROPIC_API_KEY.",
        "en": "Unauthorized. Check your ANTHROPIC_API_KEY.",
    },
    "forbidden": {
        "pt-BR": "Sua chave da API não tem permissão para este recurso.",
        "en": "Your API key does not have permission for this resource.",
    },
    "model_not_found": {
        "pt-BR": "Modelo não encontrado. Verifique ANTHROPIC_MODEL.",
        "en": "Model not found. Check ANTHROPIC_MODEL.",
    },
    "request_too_large": {
        "pt-BR": "A conversa ficou grande demais para a API. Comece uma nova conversa.",
        "en": "The conversation is too large for the API. Start a new conversation.",
    },
    "bad_request": {
        "pt-BR": "A API da Anthropic recusou a requisição.",
        "en": "The Anthropic API rejected the request.",
    },
    "rate_limited": {
        "pt-BR": "Limite de uso excedido. Aguarde e tente novamente.",
        "en": "Rate limit exceeded. Wait and try again.",
    },
    "service_unavailable": {
        "pt-BR": "Serviço da IA indisponível no momento. Tente novamente em instantes.",
        "en": "The AI service is unavailable right now. Try again in a moment.",
    },
    "timeout": {
        "pt-BR": "A IA demorou demais para responder. Tente novamente.",
        "en": "The AI took too long to answer. Try again.",
    },
    "busy": {
        "pt-BR": "Aguarde: a resposta anterior ainda está em andamento.",
        "en": "Please wait: the previous reply is still running.",
    },
    "unknown_model": {
        "pt-BR": "Modelo indisponível. Escolha um modelo da lista.",
        "en": "That model is not available. Pick a model from the list.",
    },
    "nothing_to_continue": {
        "pt-BR": "Não há resposta cortada para continuar.",
        "en": "There is no cut reply to continue.",
    },
    "nothing_to_retry": {
        "pt-BR": "Não há mensagem sua para responder de novo.",
        "en": "There is no message of yours to answer again.",
    },
    "unknown_message": {
        "pt-BR": "Mensagem desconhecida nesta conversa.",
        "en": "No such message in this conversation.",
    },
    "too_many_messages": {
        "pt-BR": "Muitas mensagens em pouco tempo. Aguarde um instante.",
        "en": "Too many messages in a short time. Wait a moment.",
    },
    "message_too_long": {
        "pt-BR": "Mensagem longa demais.",
        "en": "Message too long.",
    },
    "attachment_type": {
        "pt-BR": "Anexo recusado: só imagens PNG, JPEG, GIF ou WebP e PDFs são aceitos.",
        "en": "Attachment refused: only PNG, JPEG, GIF or WebP images and PDFs are accepted.",
    },
    "attachment_too_large": {
        "pt-BR": "Anexo grande demais (imagens: até 5 MB e 8000 pixels de lado).",
        "en": "Attachment too large (images: up to 5 MB and 8000 pixels a side).",
    },
    "too_many_attachments": {
        "pt-BR": "Anexos demais em uma mensagem.",
        "en": "Too many attachments in one message.",
    },
    "attachments_too_large": {
        "pt-BR": "Os anexos passam do total permitido nesta conversa. Comece outra.",
        "en": "The attachments exceed the total allowed in this conversation. Start a new one.",
    },
    "invalid_last_seq": {
        "pt-BR": "Não foi possível retomar de onde você parou; a conversa foi carregada de novo.",
        "en": "Could not resume where you left off; the conversation was loaded again.",
    },
    "invalid_json": {
        "pt-BR": "invalid_json",
        "en": "invalid_json",
    },
    "invalid_payload": {
        "pt-BR": "invalid_payload",
        "en": "invalid_payload",
    },
    "unknown_tool_call": {
        "pt-BR": "Não há chamada de ferramenta pendente com esse id nesta sessão.",
        "en": "There is no pending tool call with that id in this session.",
    },
    "owner_unreachable": {
        "pt-BR": "O servidor que conduz esta conversa não respondeu. Tente novamente.",
        "en": "The server running this conversation did not answer. Try again.",
    },
    "invalid_edit": {
        "pt-BR": "A entrada editada é inválida; a chamada continua aguardando sua decisão.",
        "en": "The edited input is not valid; the call is still waiting for your decision.",
    },
    "invalid_rule": {
        "pt-BR": "A regra não é válida; a chamada continua aguardando sua decisão.",
        "en": "The rule is not valid; the call is still waiting for your decision.",
    },
    "approval_timeout": {
        "pt-BR": "Tempo para aprovar a ferramenta esgotado; a chamada foi recusada.",
        "en": "The tool approval timed out; the call was denied.",
    },
    "approval_expired": {
        "pt-BR": "A aprovação expirou antes da sua resposta; a ferramenta não foi executada.",
        "en": "The approval expired before you answered; the tool did not run.",
    },
    "tool_interrupted": {
        "pt-BR": "O servidor reiniciou durante a execução da ferramenta; "
        "ela pode não ter terminado.",
        "en": "The server restarted while the tool ran; it may not have finished.",
    },
    "invalid_path": {
        "pt-BR": "Caminho inválido: o arquivo precisa ficar dentro do WORKSPACE_DIR.",
        "en": "Invalid path: the file must stay inside WORKSPACE_DIR.",
    },
    "write_failed": {
        "pt-BR": "Falha ao gravar o arquivo. Verifique permissões e espaço em disco.",
        "en": "Writing the file failed. Check permissions and disk space.",
    },
    "file_too_large": {
        "pt-BR": "O arquivo excede o tamanho máximo permitido.",
        "en": "The file is larger than the allowed maximum.",
    },
    "file_not_found": {
        "pt-BR": "O arquivo não existe no WORKSPACE_DIR.",
        "en": "The file does not exist in WORKSPACE_DIR.",
    },
    "not_text": {
        "pt-BR": "O arquivo não é texto UTF-8.",
        "en": "The file is not UTF-8 text.",
    },
    "edit_not_found": {
        "pt-BR": "Uma edição não encontrou o trecho a substituir; nada foi gravado.",
        "en": "An edit did not find the text to replace; nothing was written.",
    },
    "edit_not_unique": {
        "pt-BR": "Uma edição encontrou o trecho mais de uma vez; nada foi gravado.",
        "en": "An edit found its text more than once; nothing was written.",
    },
    "read_failed": {
        "pt-BR": "Falha ao ler o arquivo.",
        "en": "Reading the file failed.",
    },
    "tool_timeout": {
        "pt-BR": "A ferramenta demorou demais e foi interrompida.",
        "en": "The tool took too long and was stopped.",
    },
    "server_unavailable": {
        "pt-BR": "O servidor da ferramenta está indisponível no momento.",
        "en": "The tool's server is unavailable right now.",
    },
    "tool_error": {
        "pt-BR": "A ferramenta falhou.",
        "en": "The tool failed.",
    },
    "internal_error": {
        "pt-BR": "Erro interno do Gatehouse. A conversa continua disponível.",
        "en": "Gatehouse internal error. The conversation is still available.",
    },
}


# Codes that differ for programs but mean the same to a person.
_SAME_TEXT: Final[dict[str, str]] = {
    "overloaded": "service_unavailable",
    "stream_error": "service_unavailable",
    "stream_interrupted": "service_unavailable",
}


ERROR_CODES: Final[tuple[str, ...]] = tuple(sorted({*_MESSAGES, *_SAME_TEXT}))


def localize(code: str, locale: Locale) -> str:
    """The text for `code` in `locale`; unknown codes fall back to the generic internal error."""
    texts = _MESSAGES.get(_SAME_TEXT.get(code, code)) or _MESSAGES["internal_error"]
    return texts[locale]


def parse_locale(value: str | None, default: Locale) -> Locale:
    """Accept `en`, `en-US`, `pt-BR`, `pt`…; anything else is the default."""
    if not value:
        return default
    lowered = value.lower()
    if lowered.startswith("en"):
        return "en"
    if lowered.startswith("pt"):
        return "pt-BR"
    return default
