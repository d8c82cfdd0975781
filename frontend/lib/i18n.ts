// UI strings, pt-BR (the default, as in the seed) and English. Messages from the server
// (errors) arrive already localized: the socket carries `?locale=` when the person chose one,
// and otherwise the server's DEFAULT_LOCALE applies (session_created says which).
export const LOCALES = ["pt-BR", "en"] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = "pt-BR";

const ptBR = {
  "app.tagline": "Converse com o Claude. Nenhuma ferramenta roda sem a sua aprovação.",
  "header.newChat": "Nova conversa",
  "header.themeDark": "Usar tema escuro",
  "header.themeLight": "Usar tema claro",
  "header.language": "Idioma",
  "sidebar.label": "Conversas",
  "sidebar.open": "Abrir conversas",
  "sidebar.close": "Fechar conversas",
  "sidebar.loading": "Carregando conversas…",
  "sidebar.loadMore": "Carregar mais",
  "sidebar.empty": "Nenhuma conversa ainda.",
  "sidebar.emptyHint": "Envie uma mensagem: a conversa aparece aqui.",
  "sidebar.error": "Não foi possível carregar as conversas.",
  "sidebar.delete": "Apagar a conversa “{title}”",
  "delete.title": "Apagar conversa?",
  "delete.body": "“{title}” e todas as suas mensagens serão apagadas. Não dá para desfazer.",
  "delete.confirm": "Apagar",
  "delete.deleting": "Apagando…",
  "delete.cancel": "Cancelar",
  "delete.failed": "Não foi possível apagar a conversa. Tente de novo.",
  "history.loading": "Carregando a conversa…",
  "status.connecting": "Conectando…",
  "status.reconnecting": "Reconectando…",
  "status.closed": "Desconectado",
  "status.idle": "Conectado",
  "status.streaming": "IA digitando…",
  "status.awaiting_approval": "Aguardando aprovação",
  "status.tool_running": "Arquivo sendo criado…",
  "status.busy": "Ocupado",
  "status.error": "Erro",
  "status.serverReconnecting": "Servidor reconectando…",
  "empty.title": "Como posso ajudar?",
  "empty.body":
    "O Claude responde em tempo real. Quando ele quiser criar um arquivo, você vê o conteúdo e decide.",
  "empty.suggestion1": "Explique o que é o Model Context Protocol em três frases.",
  "empty.suggestion2": "Crie o arquivo notes/ideias.md com uma lista de cinco ideias de projeto.",
  "composer.label": "Mensagem",
  "composer.placeholder": "Escreva uma mensagem…",
  "composer.placeholderBusy": "Aguarde a resposta terminar…",
  "composer.placeholderOffline": "Sem conexão. Reconectando…",
  "composer.send": "Enviar",
  "composer.stop": "Parar",
  "composer.hint": "Enter envia · Shift+Enter quebra a linha",
  "message.you": "Você",
  "message.assistant": "Claude",
  "message.cancelled": "Resposta interrompida.",
  "message.stopped": "Interrompida",
  "message.cut": "A resposta atingiu o limite de tamanho e foi cortada.",
  "message.continue": "Continuar",
  "message.refused": "O Claude se recusou a responder.",
  "message.copy": "Copiar",
  "message.copied": "Copiado",
  "approval.title": "O Claude quer usar uma ferramenta",
  "approval.description": "Nada é executado até você aprovar.",
  "approval.tool": "Ferramenta",
  "approval.server": "Servidor",
  "approval.path": "Caminho",
  "approval.size": "Tamanho",
  "approval.preview": "Prévia do conteúdo",
  "approval.moreLines": "… mais {n} linha(s)",
  "approval.input": "Parâmetros",
  "approval.overwrite": "Este arquivo já existe e será sobrescrito.",
  "approval.invalidPath": "Caminho inválido",
  "approval.approve": "Aprovar",
  "approval.deny": "Negar",
  "approval.escHint": "para negar",
  "approval.queue": "+{n} pedido(s) na fila",
  "tool.state.drafting": "Claude está escrevendo…",
  "tool.draft": "Rascunho da chamada",
  "tool.draftTruncated": "A prévia parou aqui; o conteúdo completo vem no pedido de aprovação.",
  "tool.invalidInput": "A chamada era inválida e não foi executada; o Claude foi avisado.",
  "diff.title": "Alterações",
  "diff.unified": "Unificado",
  "diff.split": "Lado a lado",
  "diff.added": "{n} linha(s) adicionada(s)",
  "diff.removed": "{n} linha(s) removida(s)",
  "diff.truncated": "Diferença longa demais: só o começo é mostrado.",
  "diff.too_large": "Arquivo grande demais para comparar.",
  "diff.binary": "Arquivo binário: não há como mostrar a diferença.",
  "diff.noChange": "Nenhuma alteração.",
  "diff.before": "Antes",
  "diff.after": "Depois",
  "tool.state.requested": "Aguardando aprovação",
  "tool.state.approved": "Aprovada",
  "tool.state.running": "Escrevendo…",
  "tool.state.done": "Concluída",
  "tool.state.denied": "Negada",
  "tool.state.failed": "Falhou",
  "tool.progress": "{received} de {total}",
  "tool.received": "{received} recebidos",
  "tool.deniedNote": "Você negou. Nada foi executado.",
  "tool.waiting": "Aguardando a sua decisão…",
  "tool.noOutput": "Aguardando saída…",
  "tool.output": "Saída da ferramenta",
  "tool.interrupted": "A resposta terminou antes desta ferramenta.",
  "notice.dismiss": "Fechar aviso",
  "notice.retry": "Tentar de novo",
  "notice.offline": "Sem conexão com o servidor.",
  "code.invalid_json": "O servidor recusou uma mensagem malformada.",
  "code.invalid_payload": "O servidor recusou uma mensagem inválida.",
  "code.conversation_deleted": "A conversa aberta foi apagada. Esta é uma nova.",
} as const;

type Key = keyof typeof ptBR;
export type Dictionary = Record<Key, string>;
export type MessageKey = Key;

const en: Dictionary = {
  "app.tagline": "Chat with Claude. No tool runs without your approval.",
  "header.newChat": "New chat",
  "header.themeDark": "Use dark theme",
  "header.themeLight": "Use light theme",
  "header.language": "Language",
  "sidebar.label": "Conversations",
  "sidebar.open": "Open conversations",
  "sidebar.close": "Close conversations",
  "sidebar.loading": "Loading conversations…",
  "sidebar.loadMore": "Load more",
  "sidebar.empty": "No conversations yet.",
  "sidebar.emptyHint": "Send a message and the conversation shows up here.",
  "sidebar.error": "Couldn't load the conversations.",
  "sidebar.delete": "Delete the conversation “{title}”",
  "delete.title": "Delete conversation?",
  "delete.body": "“{title}” and all its messages will be deleted. This can't be undone.",
  "delete.confirm": "Delete",
  "delete.deleting": "Deleting…",
  "delete.cancel": "Cancel",
  "delete.failed": "Couldn't delete the conversation. Try again.",
  "history.loading": "Loading the conversation…",
  "status.connecting": "Connecting…",
  "status.reconnecting": "Reconnecting…",
  "status.closed": "Disconnected",
  "status.idle": "Connected",
  "status.streaming": "AI typing…",
  "status.awaiting_approval": "Awaiting approval",
  "status.tool_running": "File being created…",
  "status.busy": "Busy",
  "status.error": "Error",
  "status.serverReconnecting": "Server reconnecting…",
  "empty.title": "How can I help?",
  "empty.body":
    "Claude replies in real time. When it wants to create a file, you see the content and decide.",
  "empty.suggestion1": "Explain the Model Context Protocol in three sentences.",
  "empty.suggestion2": "Create the file notes/ideas.md with a list of five project ideas.",
  "composer.label": "Message",
  "composer.placeholder": "Write a message…",
  "composer.placeholderBusy": "Wait for the reply to finish…",
  "composer.placeholderOffline": "Offline. Reconnecting…",
  "composer.send": "Send",
  "composer.stop": "Stop",
  "composer.hint": "Enter to send · Shift+Enter for a new line",
  "message.you": "You",
  "message.assistant": "Claude",
  "message.cancelled": "Reply stopped.",
  "message.stopped": "Stopped",
  "message.cut": "The reply reached the length limit and was cut.",
  "message.continue": "Continue",
  "message.refused": "Claude declined to answer.",
  "message.copy": "Copy",
  "message.copied": "Copied",
  "approval.title": "Claude wants to use a tool",
  "approval.description": "Nothing runs until you approve.",
  "approval.tool": "Tool",
  "approval.server": "Server",
  "approval.path": "Path",
  "approval.size": "Size",
  "approval.preview": "Content preview",
  "approval.moreLines": "… {n} more line(s)",
  "approval.input": "Input",
  "approval.overwrite": "This file already exists and will be overwritten.",
  "approval.invalidPath": "Invalid path",
  "approval.approve": "Approve",
  "approval.deny": "Deny",
  "approval.escHint": "to deny",
  "approval.queue": "+{n} more waiting",
  "tool.state.drafting": "Claude is writing…",
  "tool.draft": "Call draft",
  "tool.draftTruncated": "The preview stops here; the whole content comes with the approval request.",
  "tool.invalidInput": "The call was invalid and did not run; Claude was told.",
  "diff.title": "Changes",
  "diff.unified": "Unified",
  "diff.split": "Side by side",
  "diff.added": "{n} line(s) added",
  "diff.removed": "{n} line(s) removed",
  "diff.truncated": "The diff is too long: only its start is shown.",
  "diff.too_large": "The file is too large to compare.",
  "diff.binary": "Binary file: no diff can be shown.",
  "diff.noChange": "No changes.",
  "diff.before": "Before",
  "diff.after": "After",
  "tool.state.requested": "Awaiting approval",
  "tool.state.approved": "Approved",
  "tool.state.running": "Writing…",
  "tool.state.done": "Done",
  "tool.state.denied": "Denied",
  "tool.state.failed": "Failed",
  "tool.progress": "{received} of {total}",
  "tool.received": "{received} received",
  "tool.deniedNote": "You denied it. Nothing ran.",
  "tool.waiting": "Waiting for your decision…",
  "tool.noOutput": "Waiting for output…",
  "tool.output": "Tool output",
  "tool.interrupted": "The reply ended before this tool finished.",
  "notice.dismiss": "Dismiss",
  "notice.retry": "Retry",
  "notice.offline": "Not connected to the server.",
  "code.invalid_json": "The server refused a malformed message.",
  "code.invalid_payload": "The server refused an invalid message.",
  "code.conversation_deleted": "The open conversation was deleted. This is a new one.",
};

const DICTIONARIES: Record<Locale, Dictionary> = { "pt-BR": ptBR, en };

export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

export function translator(locale: Locale): Translate {
  const dict = DICTIONARIES[locale];
  return (key, vars) =>
    dict[key].replace(/\{(\w+)\}/g, (match, name: string) =>
      vars && name in vars ? String(vars[name]) : match,
    );
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

/** A locale as a URL may write it (`en`, `en-US`, `pt`, `pt-BR`…), as the server reads it; null otherwise. */
export function parseLocale(value: string | null | undefined): Locale | null {
  const lowered = value?.toLowerCase() ?? "";
  if (lowered.startsWith("en")) return "en";
  if (lowered.startsWith("pt")) return "pt-BR";
  return null;
}

/**
 * The text to show for a server error: its `message` (already localized by the server),
 * except the bare codes the server uses for refused frames and the client's own notices,
 * which we word ourselves.
 */
export function errorText(t: Translate, message: string, code: string): string {
  if (message === code && isWordedCode(code)) return t(`code.${code}`);
  return message;
}

/** Codes whose text is ours: the server's bare refusals, and the client's own notices. */
const WORDED_CODES = ["invalid_json", "invalid_payload", "conversation_deleted"] as const;

function isWordedCode(code: string): code is (typeof WORDED_CODES)[number] {
  return (WORDED_CODES as readonly string[]).includes(code);
}
