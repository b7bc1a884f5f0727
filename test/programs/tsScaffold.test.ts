import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildProgram } from "../../programs/toolchain.ts";
import { ENGINE_ID } from "../../runtime/js/engine.ts";
import { repoRoot } from "../fixtures/programs.ts";

function versatus(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [join(repoRoot, "cli", "bin.js"), "program", ...args], {
    cwd,
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("programs: versatus program new --lang ts", function () {
  this.timeout(120_000);
  let parent: string;
  before(() => {
    parent = mkdtempSync(join(tmpdir(), "versatus-new-"));
  });
  after(() => rmSync(parent, { recursive: true, force: true }));

  it("scaffolds a program that builds, runs and pays the input's recipient", () => {
    const created = versatus(["new", "my-payout", "--lang", "ts"], parent);
    expect(created.code, created.stderr).to.equal(0);
    const dir = join(parent, "my-payout");
    const manifest = JSON.parse(readFileSync(join(dir, "versatus.json"), "utf8"));
    expect(manifest).to.include({ name: "my-payout", engine: ENGINE_ID, module: "build/my-payout.js" });

    const built = buildProgram(dir);
    expect(built.package.manifest.engine).to.equal(ENGINE_ID);
    // The same sources bundle to the same script, so the same programId.
    expect(buildProgram(dir).package.programId).to.equal(built.package.programId);

    const ran = versatus(["run", dir, "--input", join(dir, "input.json"), "--json"], parent);
    expect(ran.code, ran.stderr).to.equal(0);
    const json = JSON.parse(ran.stdout);
    expect(json.outcome).to.equal("ok");
    expect(json.stdout).to.contain('"op":"transfer"');
  });

  it("refuses a bad name, an unknown language and a directory that is not empty", () => {
    expect(versatus(["new", "Bad_Name"], parent).code).to.equal(1);
    expect(versatus(["new", "ok-name", "--lang", "cobol"], parent).code).to.equal(1);
    versatus(["new", "twice"], parent);
    const again = versatus(["new", "twice"], parent);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain("not empty");
  });
});
