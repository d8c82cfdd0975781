#!/usr/bin/env node
// Generates lib/api_types.ts from the backend's OpenAPI document (openapi-typescript).
//
//   python -m gatehouse.openapi > openapi.json
//   npm run gen:api -- openapi.json            # write lib/api_types.ts
//   npm run gen:api -- openapi.json --check    # exit 1 when the file on disk differs
import { readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";

const OUT = resolve(dirname(fileURLToPath(import.meta.url)), "../lib/api_types.ts");

const BANNER = `/**
 * GENERATED FILE, DO NOT EDIT.
 * Made by frontend/scripts/gen-api.mjs from the OpenAPI document of the backend's HTTP API
 * (\`python -m gatehouse.openapi\`). Regenerate: make protocol
 */
`;

async function main() {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  const path = args.find((a) => !a.startsWith("--"));
  if (!path) throw new Error("usage: gen-api.mjs <openapi.json> [--check]");
  const document = JSON.parse(await readFile(path, "utf8"));
  const ts = BANNER + astToString(await openapiTS(document, { alphabetize: true }));
  if (check) {
    const current = await readFile(OUT, "utf8").catch(() => "");
    if (current !== ts) {
      console.error("lib/api_types.ts is out of date with the backend's HTTP API: run `make protocol`");
      process.exit(1);
    }
    console.log("lib/api_types.ts is up to date");
    return;
  }
  await writeFile(OUT, ts);
  console.log(`wrote ${OUT}`);
}

await main();
