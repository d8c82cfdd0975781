import { act, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { MessageList } from "@/components/message_list";
import { NoticeList } from "@/components/notice_list";
import { StatusBadge } from "@/components/status_badge";
import { renderChat } from "../helpers/render_chat";

const chat = () => (
  <>
    <StatusBadge />
    <MessageList />
    <NoticeList />
  </>
);

describe("errors", () => {
  it("shows a model error as an alert in the reply, with the server's text and no JSON", () => {
    const h = renderChat(chat());
    act(() => {
      h.client.sendMessage("hello");
    });
    h.receive(
      h.f.status({ ai_typing: true }),
      h.f.error("Não autorizado. Verifique sua ANTHROPIC_API_KEY.", {
        code: "unauthorized",
        status: 401,
        request_id: "req_123",
      }),
      h.f.status({ ai_typing: false }),
      h.f.done("error"),
    );
    const reply = screen.getByTestId("message-assistant");
    const alert = within(reply).getByRole("alert");
    expect(alert).toHaveTextContent("Não autorizado. Verifique sua ANTHROPIC_API_KEY.");
    expect(document.body.textContent).not.toContain("req_123");
    expect(document.body.textContent).not.toContain("{");
    expect(screen.getByTestId("status-badge")).toHaveAttribute("data-kind", "error");
    expect(screen.getByTestId("status-badge")).toHaveTextContent("Erro");
  });

  it("shows a busy refusal as a dismissible alert and a busy badge", async () => {
    const h = renderChat(chat());
    h.receive(
      h.f.status({ busy: true }),
      h.f.error("Please wait: the previous reply is still running.", { code: "busy" }),
    );
    const alert = within(screen.getByTestId("notices")).getByRole("alert");
    // The UI words the code itself, in its own language, whatever the server wrote.
    expect(alert).toHaveTextContent("Aguarde: a resposta anterior ainda está em andamento.");
    expect(screen.getByTestId("status-badge")).toHaveAttribute("data-kind", "busy");
    await h.user.click(within(alert).getByRole("button", { name: "Fechar aviso" }));
    expect(screen.queryByRole("alert")).toBeNull();
    h.receive(h.f.status({ busy: false }));
    expect(screen.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
  });

  it("words the bare protocol codes for people", () => {
    const h = renderChat(chat(), { locale: "en" });
    h.receive(h.f.error("invalid_payload", { code: "invalid_payload", errors: ["data.text: too short"] }));
    expect(screen.getByRole("alert")).toHaveTextContent("The server refused an invalid message.");
    expect(document.body.textContent).not.toContain("data.text");
  });

  it("says why the chat started over when the open conversation was deleted elsewhere", () => {
    const h = renderChat(chat(), { locale: "en" });
    act(() => {
      h.client.sendMessage("hello");
    });
    act(() => h.socket.close(4404));
    expect(within(screen.getByTestId("notices")).getByRole("alert")).toHaveTextContent(
      "The open conversation was deleted. This is a new one.",
    );
    expect(screen.getByTestId("empty-state")).toBeInTheDocument();
  });

  it("shows a failed tool with its message, and the reply that follows", () => {
    const h = renderChat(chat());
    act(() => {
      h.client.sendMessage("write");
    });
    h.receive(h.f.toolRequest("t1", { path: "a.txt", content: "abc" }));
    act(() => h.client.decide("t1", true));
    h.receive(
      h.f.status({ tool_running: true, file_path: "a.txt" }),
      h.f.error("Não foi possível gravar o arquivo.", { code: "write_failed", tool_use_id: "t1" }),
      h.f.status({ tool_running: false }),
      h.f.chunk("Could not write it."),
      h.f.done(),
    );
    const card = screen.getByTestId("tool-output-view");
    expect(card).toHaveAttribute("data-state", "failed");
    expect(within(card).getByRole("alert")).toHaveTextContent("Não foi possível gravar o arquivo.");
    expect(screen.getByTestId("message-assistant")).toHaveTextContent("Could not write it.");
  });

  it("shows the reconnecting state when the socket drops", () => {
    const h = renderChat(chat());
    expect(screen.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
    act(() => h.socket.drop());
    expect(screen.getByTestId("status-badge")).toHaveAttribute("data-kind", "reconnecting");
    expect(screen.getByTestId("status-badge")).toHaveTextContent("Reconectando…");
  });
});
