#!/usr/bin/env node
// Generates lib/ws_events.ts from the backend's protocol JSON Schema.
//
//   python -m gatehouse.protocol > schema.json
//   npm run gen:protocol -- schema.json            # write lib/ws_events.ts
//   npm run gen:protocol -- schema.json --check    # exit 1 when the file on disk differs
//   python -m gatehouse.protocol | npm run gen:protocol    # schema on stdin
//
// The output is deterministic: keys are sorted before compiling, and the formatter is pinned
// with the rest of the dev dependencies.
import { readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "json-schema-to-typescript";

const OUT = resolve(dirname(fileURLToPath(import.meta.url)), "../lib/ws_events.ts");

const BANNER = `/* eslint-disable */
/**
 * GENERATED FILE, DO NOT EDIT.
 * Made by frontend/scripts/gen-protocol.mjs from the JSON Schema of
 * backend/gatehouse/protocol.py (\`python -m gatehouse.protocol\`).
 * Regenerate: npm run gen:protocol -- <schema.json>
 */`;

async function readInput(path) {
  if (path) return readFile(path, "utf8");
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys(value[key])]),
    );
  }
  return value;
}

/**
 * Property titles ("Event", "Seq", ...) would become stray type aliases, and a `default` beside
 * a `$ref` makes a duplicate type (`CancelData1`): drop both (optionality comes from `required`).
 */
function cleanProperties(schema) {
  for (const prop of Object.values(schema.properties ?? {})) {
    delete prop.title;
    if (prop.$ref) delete prop.default;
  }
}

/** Names that would shadow a global in TypeScript get a suffix. */
const RENAMED = { Error: "ErrorFrame" };

/** Name of the definition a local `$ref` points to. */
const refName = (ref) => ref.replace(/^#\/(\$defs|definitions)\//, "");

/**
 * The server serializes with `exclude_none`: a field whose default is not null (`event`,
 * `seq`, `reason`) is always on the wire, so it is required in what the client receives.
 */
function requireServerDefaults(defs, name, seen = new Set()) {
  if (seen.has(name) || !defs[name]) return;
  seen.add(name);
  const schema = defs[name];
  for (const member of [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) {
    if (member.$ref) requireServerDefaults(defs, refName(member.$ref), seen);
  }
  const required = new Set(schema.required ?? []);
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if ("default" in prop && prop.default !== null) required.add(key);
    if (prop.$ref) requireServerDefaults(defs, refName(prop.$ref), seen);
    for (const ref of [prop.items?.$ref, ...(prop.anyOf ?? []).map((m) => m.$ref)]) {
      if (ref) requireServerDefaults(defs, refName(ref), seen);
    }
  }
  if (required.size) schema.required = [...required].sort();
}

export async function generate(schemaText) {
  const input = JSON.parse(schemaText);
  const defs = input.$defs ?? input.definitions;
  if (!defs?.ClientFrame || !defs?.ServerFrame) {
    throw new Error("schema has no $defs.ClientFrame / $defs.ServerFrame");
  }
  for (const [name, schema] of Object.entries(defs)) {
    schema.title = name;
  }
  requireServerDefaults(defs, "ServerFrame");
  for (const schema of Object.values(defs)) cleanProperties(schema);
  // json-schema-to-typescript resolves `definitions` most reliably; rewrite the refs.
  const text = JSON.stringify(sortKeys(defs)).replaceAll('"#/$defs/', '"#/definitions/');
  const root = {
    title: "GatehouseProtocol",
    type: "object",
    additionalProperties: false,
    properties: {
      client: { $ref: "#/definitions/ClientFrame" },
      server: { $ref: "#/definitions/ServerFrame" },
    },
    definitions: JSON.parse(text),
  };
  const ts = await compile(root, "GatehouseProtocol", {
    bannerComment: BANNER,
    additionalProperties: false,
    unreachableDefinitions: true,
    strictIndexSignatures: true,
    unknownAny: true,
    customName: (schema) => RENAMED[schema.title],
    format: true,
    style: { printWidth: 100, singleQuote: false, trailingComma: "all" },
  });
  return ts;
}

async function main() {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  const path = args.find((a) => !a.startsWith("--"));
  const ts = await generate(await readInput(path));
  if (check) {
    const current = await readFile(OUT, "utf8").catch(() => "");
    if (current !== ts) {
      console.error(
        "lib/ws_events.ts is out of date with the backend protocol: run `npm run gen:protocol -- <schema.json>`",
      );
      process.exit(1);
    }
    console.log("lib/ws_events.ts is up to date");
    return;
  }
  await writeFile(OUT, ts);
  console.log(`wrote ${OUT}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  });
}
