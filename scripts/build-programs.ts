// `npm run programs:build [-- --force|--commit|--check] [dir...]`: builds every example program
// (programs/*/) and test fixture (test/fixtures/programs/*/) and writes their packages.
//
// C and Rust examples have their packages committed beside their sources (build/<programId>.vpkg
// and build/committed.json): without clang/rustc for wasm32-wasi the committed package is used
// (and said so); with them the program is compiled and compared with it. AssemblyScript compiles
// from npm and WebAssembly text (the test fixtures) is assembled by binaryen, so both always build.
//
//   --force   recompile everything
//   --commit  recompile the C and Rust programs and make the results the committed packages
//             (run it after changing their sources, then commit programs/*/build/)
//   --check   CI: recompile the C and Rust programs twice, in place and in a copy elsewhere, and fail
//             unless both give exactly the committed bytes (reproducible builds)
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildProgram,
  COMMITTED_LANGUAGES,
  programDirectories,
  readManifestFile,
  type BuiltProgram,
} from "../programs/toolchain.ts";
import { createProgress } from "../protocol/progress.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const args = process.argv.slice(2);
const known = new Set(["--force", "--commit", "--check"]);
const unknown = args.filter((arg) => arg.startsWith("--") && !known.has(arg));
if (unknown.length > 0) {
  console.error(`unknown option ${unknown[0]} (expected --force, --commit or --check)`);
  process.exit(1);
}
const force = args.includes("--force");
const commit = args.includes("--commit");
const check = args.includes("--check");
const dirs = args.filter((arg) => !arg.startsWith("--"));

const STATE: Record<BuiltProgram["origin"], string> = {
  compiled: "built",
  assembled: "assembled",
  committed: "committed",
  refreshed: "refreshed",
};

let failed = 0;
const refreshed: string[] = [];
const targets = dirs.length > 0 ? dirs : programDirectories(root);
const progress = createProgress({ steps: targets.length });
for (const dir of targets) {
  const step = progress.start(`build ${relative(root, dir) || dir}`);
  try {
    const built = buildProgram(dir, { force, commit, check, log: (line) => progress.log(`         ${line}`) });
    step.done();
    const state = built.origin === "compiled" && !built.compiled ? "current" : STATE[built.origin];
    console.log(
      `${state.padEnd(9)} ${built.name.padEnd(22)} ${built.package.programId}  ${relative(root, built.packagePath)}`,
    );
    if (built.origin === "refreshed") refreshed.push(relative(root, join(built.dir, "build")));
    if (check && COMMITTED_LANGUAGES.has(built.manifest.build?.language ?? "")) checkElsewhere(built);
  } catch (error) {
    failed++;
    step.fail();
    console.error(`failed    ${relative(root, dir) || dir}\n${(error as Error).message}`);
  }
}
if (refreshed.length > 0) {
  console.log(`\ncommitted packages refreshed: commit ${refreshed.join(", ")}`);
}
process.exitCode = failed > 0 ? 1 : 0;

/**
 * Builds a copy of the program in a temporary directory (another absolute path, no build
 * outputs) and fails unless the package is byte-identical: paths must not leak into the module.
 */
function checkElsewhere(built: BuiltProgram): void {
  const copyRoot = mkdtempSync(join(tmpdir(), "versatus-reproducible-"));
  try {
    // The program keeps its place relative to the SDKs it includes (`-I../../sdk/c`, the Rust
    // module path), so the copy is a partial checkout rooted elsewhere.
    const copy = join(copyRoot, relative(root, built.dir));
    cpSync(built.dir, copy, {
      recursive: true,
      filter: (source) => relative(built.dir, source).split("/")[0] !== "build",
    });
    cpSync(join(root, "sdk"), join(copyRoot, "sdk"), { recursive: true });
    const manifest = readManifestFile(copy);
    const again = buildProgram(copy, { force: true });
    if (again.package.programId !== built.package.programId) {
      throw new Error(
        `${manifest.name}: not reproducible: built ${built.package.programId} in ${built.dir}, ` +
          `${again.package.programId} in ${copy}`,
      );
    }
    console.log(`reproduced ${manifest.name.padEnd(21)} ${again.package.programId}  (in ${copyRoot})`);
  } finally {
    rmSync(copyRoot, { recursive: true, force: true });
  }
}
