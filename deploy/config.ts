import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { InvalidInputError } from "../protocol/errors.ts";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "a 0x-prefixed 20-byte hex address");
const uintString = z
  .union([z.string().regex(/^\d+$/, "a decimal integer string"), z.number().int().nonnegative()])
  .transform((v) => BigInt(v));

/**
 * An operator is an address, or `dev:N` for account N of the local development mnemonic (local
 * chains only: their keys are public).
 */
const operatorRef = z.union([address, z.string().regex(/^dev:\d+$/, "dev:<account index>")]);

export const deployConfigSchema = z
  .object({
    owner: z.union([address, z.literal("deployer")]).default("deployer"),
    operators: z.array(operatorRef).min(1, "at least one operator"),
    threshold: z.number().int().positive(),
    ethFee: uintString.default(0n),
    posters: z.array(operatorRef).default([]),
    openPosting: z.boolean().default(false),
    tokenFees: z.record(address, uintString).default({}),
    omniToken: z
      .object({
        name: z.string().min(1),
        symbol: z.string().min(1),
        salt: z.string().min(1).default("versatus.omni.v1"),
        admin: z.union([address, z.literal("deployer")]).default("deployer"),
        homeChainId: z.number().int().positive(),
        initialSupply: uintString.default(0n),
        fee: uintString.default(0n),
        mintLimits: z
          .record(
            z.string().regex(/^\d+$/, "a chain id"),
            z.object({ capacity: uintString, window: z.number().int().positive() }),
          )
          .default({}),
      })
      .optional(),
    /** Install the canonical CREATE2 deployment proxy with hardhat_setCode when missing (local chains). */
    installCreate2Proxy: z.boolean().default(false),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.threshold > cfg.operators.length) {
      ctx.addIssue({
        code: "custom",
        path: ["threshold"],
        message: `threshold ${cfg.threshold} exceeds the ${cfg.operators.length} operators`,
      });
    }
    if (cfg.threshold * 2 <= cfg.operators.length) {
      ctx.addIssue({
        code: "custom",
        path: ["threshold"],
        message: `threshold must be a strict majority of ${cfg.operators.length} operators`,
      });
    }
  });

export type DeployConfig = z.infer<typeof deployConfigSchema>;

/** Reads and validates config/deploy/<network>.json; errors name the file and the field. */
export function loadDeployConfig(network: string, root = process.cwd()): DeployConfig {
  const file = join(root, "config", "deploy", `${network}.json`);
  if (!existsSync(file)) {
    throw new InvalidInputError("network", `a deploy config at ${file}`, {
      hints: [`Copy config/deploy/localhost.json to config/deploy/${network}.json and set its operators.`],
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new InvalidInputError(file, "valid JSON", { cause });
  }
  return parseDeployConfig(raw, file);
}

export function parseDeployConfig(raw: unknown, source = "deploy config"): DeployConfig {
  const parsed = deployConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidInputError(`${source}: ${issue.path.join(".") || "(root)"}`, issue.message);
  }
  return parsed.data;
}
