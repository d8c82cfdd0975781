import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import { WORKSPACE, expect, lastReply, resetModel, script, send, test } from "./env";

test.beforeEach(async ({ page }) => {
  await resetModel();
  await page.goto("/");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
});

/** Record every distinct text the last reply bubble shows, from now on. */
async function recordReplyTexts(page: Page) {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __texts: string[] }).__texts = seen;
    const observer = new MutationObserver(() => {
      const bubbles = document.querySelectorAll(
        '[data-testid="message-assistant"] [data-testid="message-content"]',
      );
      const text = bubbles[bubbles.length - 1]?.textContent ?? "";
      if (text && text !== seen[seen.length - 1]) seen.push(text);
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => (window as unknown as { __texts: string[] }).__texts);
}

test("a reply streams in piece by piece", async ({ page }) => {
  const pieces = ["Olá", "! Esta ", "resposta ", "chega ", "aos ", "poucos, ", "em ", "vários ", "**pedaços**", "."];
  await script("conte devagar", { text: pieces, delay_ms: 200 });
  const texts = await recordReplyTexts(page);
  await send(page, "conte devagar uma coisa");

  await expect(page.getByTestId("message-user").last().getByTestId("message-content")).toHaveText(
    "conte devagar uma coisa",
  );
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "streaming");
  await expect(page.getByTestId("status-badge")).toHaveText("IA digitando…");
  await expect(page.getByTestId("composer-input")).toBeDisabled();

  const reply = lastReply(page);
  await expect(reply).toHaveText("Olá! Esta resposta chega aos poucos, em vários pedaços.");
  await expect(page.getByTestId("message-assistant").last()).toHaveAttribute("aria-busy", "false");
  await expect(reply.locator("strong")).toHaveText("pedaços");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
  await expect(page.getByTestId("composer-input")).toBeEnabled();

  // It was shown progressively: growing prefixes of the final text before the final text.
  // (Chunks 200 ms apart, ~2 s in all; on an idle machine every chunk shows. The bound is loose
  // because a loaded CI machine can deliver a few chunks in one burst.)
  const seen = await texts();
  const final = "Olá! Esta resposta chega aos poucos, em vários pedaços.";
  expect(seen.length).toBeGreaterThanOrEqual(3);
  expect(seen[0]).toBe("Olá");
  for (const text of seen) expect(final.startsWith(text.replaceAll("**", ""))).toBe(true);
});

test("an approved tool call writes the file while the chunks show", async ({ page }) => {
  const content = [
    "# Plano do projeto",
    "",
    ...Array.from({ length: 120 }, (_, i) => `- [ ] Tarefa ${i + 1}: revisar o módulo ${i % 7} e escrever testes`),
    "",
  ].join("\n");
  const bytes = Buffer.byteLength(content);
  await script("mostre um exemplo", {
    text: [
      "Claro! Um exemplo em **TypeScript**:\n\n",
      "```ts\nexport function soma(a: number, b: number): number {\n  return a + b;\n}\n```\n\n",
      "A função recebe dois números e devolve a soma. Alguns cuidados:\n\n",
      "1. **Tipos**: `a` e `b` são `number`, então `soma(\"1\", 2)` não compila.\n",
      "2. **Pureza**: a função não tem efeitos colaterais e é fácil de testar.\n",
      "3. **Nomes**: prefira nomes que digam o que a função faz.\n\n",
      "Quer que eu crie um arquivo com testes para ela?",
    ],
  });
  await script("crie o plano", {
    text: ["Vou criar o arquivo `notes/plano.md` com as tarefas."],
    tool_uses: [{ id: "toolu_e2e_ok", name: "create_file", input: { path: "notes/plano.md", content } }],
  });

  await send(page, "mostre um exemplo de função");
  await expect(lastReply(page)).toContainText("Quer que eu crie um arquivo com testes para ela?");
  await send(page, "Agora crie o plano do projeto em notes/plano.md");

  const modal = page.getByRole("dialog", { name: "O Claude quer usar uma ferramenta" });
  await expect(modal).toBeVisible();
  await expect(modal.getByTestId("approval-tool")).toHaveText("create_file");
  await expect(modal.getByTestId("approval-server")).toHaveText("workspace");
  await expect(modal.getByTestId("approval-path")).toHaveText("notes/plano.md");
  await expect(modal.getByTestId("approval-size")).toHaveAttribute("title", `${bytes} B`);
  await expect(modal.getByTestId("approval-size")).toHaveText(/^\d+(,\d)? KB$/);
  // A new file: its diff is the whole content, added.
  const diff = modal.getByTestId("diff-unified");
  await expect(diff.locator('tr[data-kind="added"]').first()).toContainText("# Plano do projeto");
  await expect(diff).toContainText("Tarefa 1: revisar o módulo 0");
  await expect(diff.locator('tr[data-kind="removed"]')).toHaveCount(0);
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "awaiting_approval");
  expect(existsSync(join(WORKSPACE, "notes/plano.md"))).toBe(false);

  await modal.getByRole("button", { name: "Aprovar" }).click();
  await expect(modal).toBeHidden();

  const card = page.getByTestId("tool-output-view").last();
  await expect(card).toHaveAttribute("data-state", "done");
  await expect(card.getByTestId("tool-output")).toHaveText(content, { useInnerText: false });
  await expect(card.getByTestId("tool-progress")).toContainText("100%");
  await expect(lastReply(page)).toContainText("Tool finished:");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");

  expect(await readFile(join(WORKSPACE, "notes/plano.md"), "utf8")).toBe(content);
});

test("a denied tool call writes nothing and the reply goes on", async ({ page }) => {
  await script("arquivo secreto", {
    text: ["Vou criar o arquivo."],
    tool_uses: [
      { id: "toolu_e2e_no", name: "create_file", input: { path: "secreto/nao.txt", content: "não" } },
    ],
  });
  await send(page, "crie um arquivo secreto");
  const modal = page.getByRole("dialog");
  await expect(modal.getByTestId("approval-path")).toHaveText("secreto/nao.txt");
  await modal.getByRole("button", { name: "Negar" }).click();
  await expect(modal).toBeHidden();

  const card = page.getByTestId("tool-output-view").last();
  await expect(card).toHaveAttribute("data-state", "denied");
  await expect(card).toContainText("Você negou. Nada foi executado.");
  await expect(lastReply(page)).toContainText("Tool failed: The tool call was denied by the user");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
  expect(existsSync(join(WORKSPACE, "secreto/nao.txt"))).toBe(false);
  expect(existsSync(join(WORKSPACE, "secreto"))).toBe(false);
});

test("Escape denies the tool call", async ({ page }) => {
  await script("escape agora", {
    text: ["Criando."],
    tool_uses: [{ id: "toolu_e2e_esc", name: "create_file", input: { path: "esc.txt", content: "x" } }],
  });
  await send(page, "escape agora");
  await expect(page.getByRole("dialog")).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog")).toBeHidden();
  await expect(page.getByTestId("tool-output-view").last()).toHaveAttribute("data-state", "denied");
  await expect(lastReply(page)).toContainText("Tool failed:");
  expect(existsSync(join(WORKSPACE, "esc.txt"))).toBe(false);
});

test("Stop ends the reply, keeps what was said, and it stays marked stopped", async ({ page }) => {
  await script("fale bastante", { text: Array.from({ length: 40 }, (_, i) => `parte${i} `), delay_ms: 150 });
  await send(page, "fale bastante");
  await expect(lastReply(page)).toContainText("parte2");
  await expect(page.getByTestId("stopped-marker")).toHaveCount(0);
  await page.getByTestId("stop-button").click();
  const marker = page.getByTestId("message-assistant").last().getByTestId("stopped-marker");
  await expect(marker).toHaveText("Interrompida");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
  await expect(lastReply(page)).not.toContainText("parte39");
  await expect(page.getByTestId("composer-input")).toBeEnabled();
  const kept = (await lastReply(page).getByTestId("markdown").innerText()).trim();

  // From the stored history after a reload: the same words, still marked stopped.
  await page.reload();
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
  await expect(lastReply(page).getByTestId("markdown")).toHaveText(kept);
  await expect(page.getByTestId("message-assistant").last().getByTestId("stopped-marker")).toHaveText(
    "Interrompida",
  );
});

test("a model error shows the localized message", async ({ page }) => {
  await script("quero um erro", {
    http_error: { status: 401, type: "authentication_error", message: "invalid x-api-key" },
  });
  await send(page, "quero um erro");
  const alert = lastReply(page).getByRole("alert");
  await expect(alert).toHaveText("Não autorizado. Verifique sua ANTHROPIC_API_KEY.");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "error");
  await expect(page.locator("body")).not.toContainText("authentication_error");
  await expect(page.locator("body")).not.toContainText("invalid x-api-key");
  // The chat goes on. (The backend joins the new text to the unanswered message before it.)
  await send(page, "tudo bem agora?");
  await expect(lastReply(page)).toContainText("tudo bem agora?");
  await expect(lastReply(page)).toContainText("Echo:");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
});

test("after a reload the app still works, in the language chosen", async ({ page }) => {
  await send(page, "antes do reload");
  await expect(lastReply(page)).toHaveText("Echo: antes do reload");

  await page.getByTestId("locale-en").click();
  await expect(page.getByTestId("composer-input")).toHaveAttribute("placeholder", "Write a message…");

  const socket = page.waitForEvent("websocket");
  await page.reload();
  expect(new URL((await socket).url()).searchParams.get("locale")).toBe("en");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
  await expect(page.getByTestId("composer-input")).toHaveAttribute("placeholder", "Write a message…");
  // The conversation was resumed: what was said before the reload is still there.
  await expect(page.getByTestId("message-user").first().getByTestId("message-content")).toHaveText(
    "antes do reload",
  );
  await expect(page.getByTestId("message-assistant").first().getByTestId("message-content")).toHaveText(
    "Echo: antes do reload",
  );

  await send(page, "after the reload");
  await expect(lastReply(page)).toHaveText("Echo: after the reload");
});
