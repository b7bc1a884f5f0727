import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { BaseError, InvalidInputError } from "../protocol/errors.ts";
import { manifestSchema, type ProgramPackage } from "../protocol/programPackage.ts";
import { ModuleRejectedError } from "../runtime/errors.ts";
import { prepareJsProgram } from "../runtime/js/program.ts";
import { ENGINE_ID } from "../runtime/js/engine.ts";
import { SDK_ENTRY, SDK_SPECIFIER } from "../sdk/ts/build.ts";

/**
 * `versatus program new <name> --lang ts|js`: scaffolds a program directory: versatus.json (the
 * engine pinned), src/main.ts (or .js) written against the SDK, a tsconfig.json that resolves
 * `@versatus/sdk` for editors and `tsc`, a sample input and a README with the next commands.
 */
export function registerProgramNew(program: Command): void {
  program
    .command("new")
    .description("Scaffold a new program directory (TypeScript or JavaScript on the metered QuickJS engine)")
    .argument("<name>", "program name: lower-case letters, digits and dashes")
    .option("--lang <language>", "ts or js", "ts")
    .option("--dir <path>", "directory to create (default ./<name>)")
    .action((name: string, options: { lang: string; dir?: string }) => {
      try {
        const dir = scaffoldProgram(name, options);
        const shown = relative(process.cwd(), dir) || ".";
        console.log(`created ${shown}`);
        console.log(`next:   versatus program build ${shown}`);
        console.log(`        versatus program run ${shown} --input ${join(shown, "input.json")}`);
      } catch (error) {
        if (!(error instanceof BaseError)) throw error;
        console.error(error.message);
        process.exitCode = 1;
      }
    });
}

/** `versatus program inspect` for a JavaScript program: the engine instead of wasm sections. */
export function inspectJsProgram(pkg: ProgramPackage, json: boolean): void {
  let verdict = "accepted";
  try {
    prepareJsProgram(pkg);
  } catch (error) {
    if (!(error instanceof ModuleRejectedError)) throw error;
    verdict = error.shortMessage;
  }
  const report = {
    programId: pkg.programId,
    manifest: pkg.manifest,
    packageBytes: pkg.bytes.length,
    scriptBytes: pkg.module.length,
    scriptSha256: `0x${createHash("sha256").update(pkg.module).digest("hex")}`,
    engine: pkg.manifest.engine,
    runtime: verdict,
  };
  if (json) return console.log(JSON.stringify(report, null, 2));
  const limits = pkg.manifest.limits;
  console.log(`programId    ${report.programId}`);
  console.log(`name         ${pkg.manifest.name} ${pkg.manifest.version}`);
  console.log(
    `limits       fuel ${limits.fuel}, memory ${limits.memoryPages} pages, output ${limits.outputBytes} bytes, wall time ${limits.wallTimeMs} ms`,
  );
  console.log(`sizes        package ${report.packageBytes} bytes, script ${report.scriptBytes} bytes`);
  console.log(`script hash  ${report.scriptSha256} (sha256)`);
  console.log(`engine       ${report.engine}`);
  console.log(`runtime      ${verdict}`);
}

export function scaffoldProgram(name: string, options: { lang?: string; dir?: string } = {}): string {
  const lang = (options.lang ?? "ts").toLowerCase();
  if (!["ts", "typescript", "js", "javascript"].includes(lang)) {
    throw new InvalidInputError("--lang", "ts or js (C, Rust and AssemblyScript programs: see programs/ for examples)");
  }
  if (!manifestSchema.shape.name.safeParse(name).success) {
    throw new InvalidInputError("<name>", "lower-case letters, digits and dashes, at most 64");
  }
  const typescript = lang.startsWith("t");
  const dir = resolve(options.dir ?? name);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new InvalidInputError("program directory", `a new or empty directory; ${dir} is not empty`);
  }
  const entry = typescript ? "src/main.ts" : "src/main.js";
  const files: Record<string, string> = {
    "versatus.json": `${JSON.stringify(
      {
        name,
        version: "0.1.0",
        description: `${name}: a Versatus program`,
        module: `build/${name}.js`,
        engine: ENGINE_ID,
        limits: { fuel: 50_000_000, memoryPages: 256, outputBytes: 16_384, wallTimeMs: 1_000 },
        build: { language: typescript ? "typescript" : "javascript", sources: [entry] },
      },
      null,
      2,
    )}\n`,
    [entry]: typescript ? TS_MAIN : JS_MAIN,
    "input.json": `${JSON.stringify({ to: "0x1111111111111111111111111111111111111111", amount: "1000" })}\n`,
    ".gitignore": "build/\n",
    "README.md": readme(name),
  };
  if (typescript) {
    files["src/globals.d.ts"] = GLOBALS_D_TS;
    files["tsconfig.json"] = `${JSON.stringify(
      {
        compilerOptions: {
          target: "es2020",
          module: "esnext",
          moduleResolution: "bundler",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          allowImportingTsExtensions: true,
          lib: ["es2020"],
          types: [],
          paths: { [SDK_SPECIFIER]: [SDK_ENTRY] },
        },
        include: ["src"],
      },
      null,
      2,
    )}\n`;
  }
  for (const [file, content] of Object.entries(files)) {
    const path = join(dir, file);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, content);
  }
  return dir;
}

/** The globals the runtime's prelude provides besides the language (console writes to stderr). */
const GLOBALS_D_TS = `declare const console: {
  log(...values: unknown[]): void;
  info(...values: unknown[]): void;
  warn(...values: unknown[]): void;
  error(...values: unknown[]): void;
  debug(...values: unknown[]): void;
};
`;

const TS_MAIN = `// A Versatus program: reads the request input, returns actions. Runs deterministically on
// every node (Date is the request time, Math.random is seeded by the request id, no I/O).
import { context, fail, inputJson, isAddress, request, run, transfer, type Action } from "@versatus/sdk";

type Input = { to: string; amount?: string };

run((): Action[] => {
  const input = inputJson<Input>();
  if (!isAddress(input.to)) fail('"to" must be a 0x-prefixed 20-byte address');
  // Without an amount, pay out the whole escrow minus the oracle's fee.
  const ctx = context();
  const amount = input.amount !== undefined ? BigInt(input.amount) : ctx ? ctx.amount - ctx.fee : 0n;
  console.log(\`request \${request().requestId}: paying \${amount} to \${input.to}\`);
  return [transfer(input.to, amount)];
});
`;

const JS_MAIN = `// A Versatus program: reads the request input, returns actions. Runs deterministically on
// every node (Date is the request time, Math.random is seeded by the request id, no I/O).
import { context, fail, inputJson, isAddress, run, transfer } from "@versatus/sdk";

run(() => {
  const input = inputJson();
  if (!isAddress(input.to)) fail('"to" must be a 0x-prefixed 20-byte address');
  const ctx = context();
  const amount = input.amount !== undefined ? BigInt(input.amount) : ctx ? ctx.amount - ctx.fee : 0n;
  return [transfer(input.to, amount)];
});
`;

function readme(name: string): string {
  return `# ${name}

A Versatus program on the metered QuickJS engine. \`src/\` imports the SDK as \`${SDK_SPECIFIER}\`
(sdk/ts in the Versatus repository: input, request context, seeded random, action builders).

\`\`\`sh
versatus program build .                               # bundle with esbuild -> build/${name}.js + build/${name}.vpkg
versatus program run . --input input.json              # run it like an operator would
versatus program simulate . --input input.json         # what each chain's ingestor would receive
versatus program publish . --network <name>            # publish it for the network's operators
\`\`\`

Output: \`{"actions":[...]}\`, built with transfer/call/mint/burn/create. Refuse bad input with
\`fail(reason)\` (exit code 2). Uncaught exceptions are exit code 1. Limits are in versatus.json.
`;
}
