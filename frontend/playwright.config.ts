import { defineConfig } from "@playwright/test";

// One backend and one Claude stand-in for the whole run (e2e/global-setup.ts), so the tests run
// one at a time. Chromium is Debian's (/usr/bin/chromium): Playwright's own builds cannot be
// downloaded here. CHROMIUM_PATH overrides it.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export default defineConfig({
  testDir: "./e2e",
  globalSetup: "./e2e/global-setup.ts",
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 90_000, // a deadline for a hung test; a loaded machine renders and starts slowly
  expect: { timeout: 20_000 },
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    browserName: "chromium",
    viewport: { width: 1280, height: 800 },
    locale: "pt-BR",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      args: CHROMIUM_ARGS,
    },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    { name: "e2e", testMatch: /.*\.spec\.ts$/, testIgnore: /bench\.spec\.ts$/ },
    // No trace in the benchmark: its DOM snapshots run on the page's main thread and would be
    // counted as the page's own work.
    { name: "bench", testMatch: /bench\.spec\.ts$/, timeout: 120_000, use: { trace: "off" } },
  ],
});
