import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { bytesToHex, hexToBytes, isHex, type Hex } from "viem";
import { createDaClient, layerFromEnv } from "../da/index.ts";
import { BaseError, InvalidInputError } from "../protocol/errors.ts";
import {
  decodeRecord,
  encodeRecord,
  recordBodyHash,
  recordFromJson,
  recordToJson,
  type ExecutionRecord,
} from "../protocol/record.ts";

/**
 * `versatus da put|get|verify`: write an execution record to a DA layer, read one back by its
 * daPointer, and check availability (and bodyHash). Layer settings come from --config (a JSON DA
 * config, see docs/da.md), then environment variables, then flags; flags win.
 */
type DaCliOptions = {
  config?: string;
  layer?: string;
  fallback?: string;
  dir?: string;
  celestiaUrl?: string;
  namespace?: string;
  eigendaUrl?: string;
  json?: boolean;
};

function withDaOptions(command: Command): Command {
  return command
    .option("--config <file>", "JSON DA config ({primary, fallback, read} or {da: {...}})")
    .option("--layer <layer>", "primary layer: local, celestia or eigenda")
    .option("--fallback <layer>", "fallback layer when the primary cannot take the record")
    .option("--dir <path>", "local store directory (default .versatus/da, env VERSATUS_DA_DIR)")
    .option(
      "--celestia-url <url>",
      "celestia-node RPC URL (env CELESTIA_NODE_URL); token from env CELESTIA_NODE_AUTH_TOKEN",
    )
    .option("--namespace <hex>", "Celestia namespace (env CELESTIA_NAMESPACE)")
    .option("--eigenda-url <url>", "eigenda-proxy URL (env EIGENDA_PROXY_URL)")
    .option("--json", "print machine-readable JSON");
}

function layerSettings(layer: string, options: DaCliOptions): Record<string, unknown> {
  const settings = layerFromEnv(layer);
  if (layer === "local" && options.dir) settings.dir = options.dir;
  if (layer === "celestia") {
    if (options.celestiaUrl) settings.url = options.celestiaUrl;
    if (options.namespace) settings.namespace = options.namespace;
  }
  if (layer === "eigenda" && options.eigendaUrl) settings.url = options.eigendaUrl;
  return settings;
}

function buildConfig(options: DaCliOptions, forReading: boolean): Record<string, unknown> {
  let config: Record<string, unknown> = {};
  if (options.config) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(options.config, "utf8"));
    } catch (cause) {
      throw new InvalidInputError("--config", "a readable JSON file", { details: options.config, cause });
    }
    const root = parsed as Record<string, unknown>;
    config = { ...((root.da as Record<string, unknown> | undefined) ?? root) };
  }
  if (options.layer) config.primary = layerSettings(options.layer, options);
  else if (!config.primary && options.dir) config.primary = layerSettings("local", options);
  if (options.fallback) config.fallback = layerSettings(options.fallback, options);
  if (forReading) {
    // A reader follows whatever kind the pointer names: offer every layer it has settings for.
    const read = [...((config.read as unknown[] | undefined) ?? [])];
    read.push(layerSettings("local", options));
    if (options.celestiaUrl || process.env.CELESTIA_NODE_URL) read.push(layerSettings("celestia", options));
    if (options.eigendaUrl || process.env.EIGENDA_PROXY_URL) read.push(layerSettings("eigenda", options));
    config.read = read;
  }
  return config;
}

function readInput(file: string | undefined): Buffer {
  if (!file || file === "-") return readFileSync(0);
  return readFileSync(file);
}

/** A record file is JSON (the form `da get` prints) or the encoded record as 0x-hex or raw bytes. */
function parseRecordInput(input: Buffer): ExecutionRecord {
  const text = input.toString("utf8").trim();
  if (text.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new InvalidInputError("record", "valid JSON", { cause });
    }
    return recordFromJson(json);
  }
  if (isHex(text, { strict: true })) return decodeRecord(hexToBytes(text as Hex));
  return decodeRecord(new Uint8Array(input));
}

/** Failover and retries are worth seeing on the terminal; stdout stays clean for --json. */
const stderrLogger = {
  info() {},
  warn(obj: object, msg?: string) {
    console.error(JSON.stringify({ level: "warn", msg, ...obj }));
  },
};

async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    // BaseError messages never carry credentials (URLs go through redactUrl).
    console.error(error instanceof BaseError ? error.message : error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}

export function registerDaCommands(program: Command): void {
  const da = program
    .command("da")
    .description("Execution records on DA layers: embedded local store, Celestia, EigenDA");

  withDaOptions(
    da
      .command("put [file]")
      .description("write an execution record (JSON, 0x-hex or raw bytes; stdin when no file) and print its daPointer"),
  ).action((file: string | undefined, options: DaCliOptions) =>
    run(async () => {
      const record = parseRecordInput(readInput(file));
      const client = createDaClient(buildConfig(options, false), { logger: stderrLogger });
      try {
        const result = await client.put(record);
        if (options.json) {
          console.log(
            JSON.stringify(
              {
                daPointer: result.pointerHex,
                bodyHash: result.bodyHash,
                layer: result.layer,
                recordBytes: result.recordBytes,
                failedOver: result.failedOver,
              },
              null,
              2,
            ),
          );
        } else {
          console.log(`daPointer ${result.pointerHex}`);
          console.log(`bodyHash  ${result.bodyHash}`);
          console.log(
            `layer     ${result.layer}${result.failedOver ? " (primary failed, fallback used)" : ""}, ${result.recordBytes} bytes`,
          );
        }
      } finally {
        await client.close();
      }
    }),
  );

  withDaOptions(
    da
      .command("get <daPointer>")
      .description("fetch the record a daPointer names, check it, and print it as JSON")
      .option("--raw", "print the canonical encoded record as 0x-hex instead"),
  ).action((pointer: string, options: DaCliOptions & { raw?: boolean }) =>
    run(async () => {
      const client = createDaClient(buildConfig(options, true), { logger: stderrLogger });
      try {
        const record = await client.get(pointer as Hex);
        if (options.raw) console.log(bytesToHex(encodeRecord(record)));
        else console.log(JSON.stringify({ bodyHash: recordBodyHash(record.body), ...recordToJson(record) }, null, 2));
      } finally {
        await client.close();
      }
    }),
  );

  withDaOptions(
    da
      .command("verify <daPointer>")
      .description(
        "check the record is available (Celestia: inclusion proof) and, with --body-hash, that it is the signed body",
      )
      .option("--body-hash <hash>", "the bodyHash the on-chain result carries"),
  ).action((pointer: string, options: DaCliOptions & { bodyHash?: string }) =>
    run(async () => {
      if (options.bodyHash !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(options.bodyHash)) {
        throw new InvalidInputError("--body-hash", "32 bytes as 0x-hex");
      }
      const client = createDaClient(buildConfig(options, true), { logger: stderrLogger });
      try {
        const result = await client.verify(pointer as Hex, options.bodyHash as Hex | undefined);
        const ok = result.available && result.bodyHashMatches !== false && result.inclusionProven !== false;
        if (options.json) console.log(JSON.stringify({ ok, ...result }, null, 2));
        else {
          console.log(
            `${ok ? "OK" : "FAILED"}  ${result.layer} record ${result.available ? "available" : "unavailable"}`,
          );
          if (result.bodyHash)
            console.log(
              `bodyHash ${result.bodyHash}${result.bodyHashMatches === undefined ? "" : result.bodyHashMatches ? " (matches)" : " (DOES NOT match)"}`,
            );
          if (result.inclusionProven !== undefined)
            console.log(`inclusion proof ${result.inclusionProven ? "verified" : "NOT verified"}`);
          if (result.error) console.log(`error: ${result.error}`);
        }
        if (!ok) process.exitCode = 1;
      } finally {
        await client.close();
      }
    }),
  );
}
