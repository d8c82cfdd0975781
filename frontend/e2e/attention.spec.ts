// While approvals wait: the tab's title and favicon say so, a hidden tab gets a notification,
// several calls are listed with approve all / deny all, and a tool's declared hints show.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "@playwright/test";
import { WORKSPACE, expect, gateName, modelRequests, release, resetModel, script, send, test } from "./env";

// Runs before the page's own scripts: records what the page asks of the browser's Notification
// and still calls the real one.
const RECORD_NOTIFICATIONS = () => {
  const Real = window.Notification;
  const record = { requests: 0, shown: [] as { title: string; body: string }[], last: null as Notification | null };
  function Recorded(title: string, options?: NotificationOptions): Notification {
    const notification = new Real(title, options);
    record.shown.push({ title, body: options?.body ?? "" });
    record.last = notification;
    return notification;
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Object.assign(Recorded, {
    requestPermission: () => {
      record.requests += 1;
      return Real.requestPermission();
    },
  });
  Object.assign(window, { Notification: Recorded, __notifications: record });
};

interface Recorded {
  requests: number;
  shown: { title: string; body: string }[];
}
const recorded = (page: Page) =>
  page.evaluate(() => {
    const { requests, shown } = (window as unknown as { __notifications: Recorded }).__notifications;
    return { requests, shown };
  });

const iconHref = (page: Page) =>
  page.evaluate(() => document.querySelector<HTMLLinkElement>('link[rel~="icon"]')?.getAttribute("href") ?? "");

function createFile(id: string, path: string, content = `${path}\n`) {
  return { id, name: "create_file", input: { path, content } };
}

async function open(page: Page): Promise<void> {
  await resetModel();
  await page.addInitScript(RECORD_NOTIFICATIONS);
  await page.goto("/");
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
}

test("the title and the favicon say an approval waits, and come back after", async ({ page }) => {
  await open(page);
  await expect(page).toHaveTitle("Gatehouse");
  const plainIcon = await iconHref(page);
  expect(plainIcon).toMatch(/^\/icon\.svg/);
  expect((await recorded(page)).requests).toBe(0); // never asked on page load

  await script("título pendente", { text: ["Vou criar."], tool_uses: [createFile("toolu_att_1", "att/one.txt")] });
  await send(page, "título pendente");
  await expect(page.getByRole("dialog")).toBeVisible();
  await expect(page).toHaveTitle("(1) Aprovação pendente — Gatehouse");
  const badged = await iconHref(page);
  expect(badged).toMatch(/^data:image\/svg\+xml,/);
  expect(decodeURIComponent(badged)).toContain(">1</text>");
  expect((await recorded(page)).requests).toBe(1); // asked when the request arrived

  await page.getByRole("dialog").getByRole("button", { name: "Negar" }).click();
  await expect(page).toHaveTitle("Gatehouse");
  expect(await iconHref(page)).toBe(plainIcon);
});

test.describe("with notifications allowed", () => {
  test.use({ permissions: ["notifications"] });

  test("a hidden tab gets a notification; clicking it brings the dialog back", async ({ page }) => {
    await open(page);
    const gate = gateName("att-hidden");
    await script("aviso escondido", {
      text: ["Vou criar."],
      hold_after: 1,
      gate,
      tool_uses: [createFile("toolu_att_h", "att/hidden.txt")],
    });
    await send(page, "aviso escondido");
    // The person switches away while Claude is still writing. Headless Chromium keeps every
    // page visible (another tab, a minimized window), so the switch is played as the browser
    // reports it: visibilityState "hidden" and a visibilitychange event.
    await page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { get: () => "hidden", configurable: true });
      Object.defineProperty(document, "hidden", { get: () => true, configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    await release(gate);

    await expect.poll(async () => (await recorded(page)).shown).toEqual([
      { title: "O Claude quer usar uma ferramenta", body: "create_file (workspace) aguarda a sua aprovação." },
    ]);
    expect((await recorded(page)).requests).toBe(0); // already allowed: nothing to ask

    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.evaluate(() => {
      const record = (window as unknown as { __notifications: { last: Notification } }).__notifications;
      record.last.dispatchEvent(new Event("click"));
    });
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("approval-dialog");
    await page.getByRole("dialog").getByRole("button", { name: "Negar" }).click();
    await expect(page).toHaveTitle("Gatehouse");
  });

  test("a visible tab gets no notification", async ({ page }) => {
    await open(page);
    await script("aviso visível", { text: ["Vou criar."], tool_uses: [createFile("toolu_att_v", "att/visible.txt")] });
    await send(page, "aviso visível");
    await expect(page.getByRole("dialog")).toBeVisible();
    await expect(page).toHaveTitle("(1) Aprovação pendente — Gatehouse");
    await page.getByRole("dialog").getByRole("button", { name: "Negar" }).click();
    await expect(page).toHaveTitle("Gatehouse");
    expect((await recorded(page)).shown).toEqual([]);
  });
});

test("several calls at once: each listed, one denied from the list, the rest approved all", async ({ page }) => {
  await open(page);
  const uses = [createFile("toolu_par_1", "par/a.txt"), createFile("toolu_par_2", "par/b.txt"), createFile("toolu_par_3", "par/c.txt")];
  await script("três arquivos", { text: ["Vou criar três arquivos."], tool_uses: uses });
  await send(page, "crie três arquivos");

  const dialog = page.getByRole("dialog");
  const queue = dialog.getByTestId("approval-queue");
  await expect(queue).toContainText("3 chamadas aguardam a sua decisão");
  await expect(page).toHaveTitle("(3) Aprovações pendentes — Gatehouse");
  const items = queue.getByTestId("approval-queue-item");
  await expect(items).toHaveCount(3);
  await expect(items.nth(1)).toContainText("par/b.txt");
  await items.nth(1).getByRole("button", { name: "Negar create_file" }).click();
  await expect(items).toHaveCount(2);
  await expect(page).toHaveTitle("(2) Aprovações pendentes — Gatehouse");
  await queue.getByRole("button", { name: "Aprovar todas" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");

  expect(await readFile(join(WORKSPACE, "par/a.txt"), "utf8")).toBe("par/a.txt\n");
  expect(existsSync(join(WORKSPACE, "par/b.txt"))).toBe(false);
  expect(await readFile(join(WORKSPACE, "par/c.txt"), "utf8")).toBe("par/c.txt\n");
  // Claude got one result per call, in order: the denied one as an error.
  const requests = await modelRequests();
  const last = requests[requests.length - 1]?.messages.at(-1);
  const results = (last?.content as { tool_use_id: string; is_error?: boolean }[]).map((r) => [
    r.tool_use_id,
    r.is_error ?? false,
  ]);
  expect(results).toEqual([
    ["toolu_par_1", false],
    ["toolu_par_2", true],
    ["toolu_par_3", false],
  ]);
});

test("deny all denies every call", async ({ page }) => {
  await open(page);
  const uses = [createFile("toolu_den_1", "den/a.txt"), createFile("toolu_den_2", "den/b.txt")];
  await script("negue tudo", { text: ["Vou criar dois."], tool_uses: uses });
  await send(page, "negue tudo");
  await page.getByTestId("approval-queue").getByRole("button", { name: "Negar todas" }).click();
  await expect(page.getByRole("dialog")).toBeHidden();
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");
  expect(existsSync(join(WORKSPACE, "den"))).toBe(false);
  const requests = await modelRequests();
  const last = requests[requests.length - 1]?.messages.at(-1);
  expect((last?.content as { is_error?: boolean }[]).map((r) => r.is_error)).toEqual([true, true]);
});

test("create_file's hints show as badges; replacing a file is called destructive plainly", async ({ page }) => {
  await open(page);
  await mkdir(join(WORKSPACE, "hints"), { recursive: true });
  await writeFile(join(WORKSPACE, "hints/old.txt"), "old\n");
  await script("substitua", { text: ["Vou substituir."], tool_uses: [createFile("toolu_hint_1", "hints/old.txt")] });
  await send(page, "substitua o arquivo");
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByTestId("tool-hints").getByRole("listitem")).toHaveText([
    "Destrutiva",
    "Idempotente",
    "Sem acesso externo",
  ]);
  await expect(dialog.getByTestId("approval-destructive")).toHaveText(
    "Esta ferramenta pode apagar ou sobrescrever dados. Aprove só se tiver certeza.",
  );
  await dialog.getByRole("button", { name: "Negar" }).click();
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");

  await script("arquivo novo", { text: ["Vou criar."], tool_uses: [createFile("toolu_hint_2", "hints/new.txt")] });
  await send(page, "arquivo novo");
  await expect(dialog.getByTestId("tool-hints")).toContainText("Destrutiva");
  await expect(dialog.getByTestId("approval-path")).toHaveText("hints/new.txt");
  await expect(dialog.getByTestId("approval-destructive")).toHaveCount(0); // a new file replaces nothing
  await dialog.getByRole("button", { name: "Negar" }).click();
});

test("the chime is off by default and plays at a request once turned on", async ({ page }) => {
  await page.addInitScript(() => {
    const tones = { started: 0 };
    const create = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function (this: AudioContext) {
      tones.started += 1;
      return create.call(this);
    };
    Object.assign(window, { __tones: tones });
  });
  await open(page);
  const tones = () => page.evaluate(() => (window as unknown as { __tones: { started: number } }).__tones.started);
  const toggle = page.getByTestId("sound-toggle");
  await expect(toggle).toHaveAttribute("aria-pressed", "false");

  await script("sem som", { text: ["Vou criar."], tool_uses: [createFile("toolu_snd_1", "snd/a.txt")] });
  await send(page, "sem som");
  await expect(page.getByRole("dialog")).toBeVisible();
  expect(await tones()).toBe(0);
  await page.getByRole("dialog").getByRole("button", { name: "Negar" }).click();
  await expect(page.getByTestId("status-badge")).toHaveAttribute("data-kind", "idle");

  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-pressed", "true");
  await script("com som", { text: ["Vou criar."], tool_uses: [createFile("toolu_snd_2", "snd/b.txt")] });
  await send(page, "com som");
  await expect(page.getByRole("dialog")).toBeVisible();
  await expect.poll(tones).toBeGreaterThan(0);
  await page.getByRole("dialog").getByRole("button", { name: "Negar" }).click();
  await page.reload();
  await expect(page.getByTestId("sound-toggle")).toHaveAttribute("aria-pressed", "true"); // remembered
});
