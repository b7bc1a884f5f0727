// `npm run programs:build [dir...]`: compiles every example program (programs/*/) and the C test
// fixtures (test/fixtures/programs/*/) from source and writes their packages. Incremental: a
// program whose sources did not change is only re-packaged. `--force` recompiles everything.
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { buildProgram, programDirectories } from "../programs/toolchain.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const args = process.argv.slice(2);
const force = args.includes("--force");
const dirs = args.filter((arg) => !arg.startsWith("--"));
let failed = 0;
for (const dir of dirs.length > 0 ? dirs : programDirectories(root)) {
  try {
    const built = buildProgram(dir, { force });
    console.log(
      `${built.compiled ? "built   " : "current "} ${built.name.padEnd(20)} ${built.package.programId}  ${relative(root, built.packagePath)}`,
    );
  } catch (error) {
    failed++;
    console.error(`failed   ${relative(root, dir)}\n${(error as Error).message}`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
