// Starts the Claude stand-in (backend/tests/model_server.py) and the real backend serving the
// built UI (frontend/out), each on a free port, with a temporary workspace. Tests find them
// through the environment (e2e/env.ts). The returned function stops both.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const FRONTEND = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const REPO = resolve(FRONTEND, "..");
const BACKEND = join(REPO, "backend");
const VENV = process.env.GATEHOUSE_VENV || join(REPO, ".venv");
const START_TIMEOUT_MS = 180_000; // a loaded machine imports the backend slowly

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.pid === undefined) return done();
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      done();
    });
    child.kill("SIGTERM");
  });
}

/** Resolve with the model server's port once it prints `ready <port>`. */
function startModelServer(log: NodeJS.WritableStream): Promise<[ChildProcess, number]> {
  const child = spawn(join(VENV, "bin/python"), ["-m", "tests.model_server", "--port", "0"], {
    cwd: BACKEND,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stderr?.pipe(log);
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error("model server did not print `ready`")), START_TIMEOUT_MS);
    let buffer = "";
    child.stdout?.on("data", (data: Buffer) => {
      buffer += data.toString();
      const match = /ready (\d+)/.exec(buffer);
      if (match?.[1]) {
        clearTimeout(timer);
        done([child, Number(match[1])]);
      }
    });
    child.once("exit", (code) => fail(new Error(`model server exited (${code})`)));
  });
}

async function waitForHealth(url: string, child: ChildProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`backend exited (${child.exitCode}); see ${logPath}`);
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`backend not healthy within ${START_TIMEOUT_MS} ms; see ${logPath}`);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(join(FRONTEND, "out/index.html"))) {
    throw new Error("frontend/out is missing: run `npm run build` before the e2e tests");
  }
  const root = await mkdtemp(join(tmpdir(), "gatehouse-e2e-"));
  const workspace = join(root, "workspace");
  await mkdir(workspace);
  const logDir = join(FRONTEND, "test-results");
  await mkdir(logDir, { recursive: true });
  const modelLog = createWriteStream(join(logDir, "model-server.log"));
  const backendLogPath = join(logDir, "backend.log");
  const backendLog = createWriteStream(backendLogPath);

  const [model, modelPort] = await startModelServer(modelLog);
  const port = await freePort();
  const backend = spawn(join(VENV, "bin/gatehouse"), ["serve"], {
    // Its own folder: the default SQLite file lands there, not in the repo.
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      ANTHROPIC_API_KEY: "test-key",
      ANTHROPIC_BASE_URL: `http://127.0.0.1:${modelPort}`,
      WORKSPACE_DIR: workspace,
      FRONTEND_DIR: join(FRONTEND, "out"),
      TOOL_CHUNK_BYTES: "1024",
      LOG_LEVEL: "info",
      GENERATE_TITLES: "false", // the sidebar's titles stay the first words the tests typed
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  backend.stdout?.pipe(backendLog);
  backend.stderr?.pipe(backendLog);
  try {
    await waitForHealth(`http://127.0.0.1:${port}/health`, backend, backendLogPath);
  } catch (error) {
    await Promise.all([stop(backend), stop(model)]);
    throw error;
  }

  process.env.GATEHOUSE_URL = `http://127.0.0.1:${port}`;
  process.env.GATEHOUSE_MODEL_URL = `http://127.0.0.1:${modelPort}`;
  process.env.GATEHOUSE_WORKSPACE = workspace;

  return async () => {
    await Promise.all([stop(backend), stop(model)]);
    await rm(root, { recursive: true, force: true });
  };
}
