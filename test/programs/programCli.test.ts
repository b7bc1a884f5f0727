import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { builtPrograms, repoRoot } from "../fixtures/programs.ts";

function versatus(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [join(repoRoot, "cli", "bin.js"), "program", ...args], {
    cwd: repoRoot,
    input,
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("programs: the versatus program command", function () {
  this.timeout(60_000);
  before(() => builtPrograms());

  it("runs a package and prints the outcome as JSON", () => {
    const input = JSON.stringify({ recipients: [{ to: `0x${"1".repeat(40)}`, weight: 1 }] });
    const result = versatus(
      ["run", "programs/payout-splitter/build/payout-splitter.vpkg", "--input", "-", "--value", "9", "--json"],
      input,
    );
    expect(result.code).to.equal(0);
    const json = JSON.parse(result.stdout);
    expect(json).to.include({ outcome: "ok", exitCode: 0, stderr: "" });
    expect(Object.keys(json)).to.include.members([
      "outcome",
      "exitCode",
      "fuelUsed",
      "stdout",
      "stderr",
      "instructions",
      "context",
    ]);
    expect(json.instructions["31337"][0]).to.include({ opName: "TRANSFER", amount: "9" });
  });

  it("exits 0 when the program itself fails, and 1 for a usage error", () => {
    const failed = versatus(["run", "test/fixtures/programs/hostile-deep-recursion", "--input", "-", "--json"], "{}");
    expect(failed.code).to.equal(0);
    expect(JSON.parse(failed.stdout).outcome).to.equal("too_deep");
    const usage = versatus(["run", "programs/does-not-exist", "--input", "-"], "{}");
    expect(usage.code).to.equal(1);
    expect(usage.stderr).to.contain("does not exist");
  });

  it("simulates what each chain's ingestor receives", () => {
    const input = JSON.stringify({
      token: `0x${"3".repeat(40)}`,
      to: `0x${"4".repeat(40)}`,
      amount: "5",
      destinationChainId: 31338,
    });
    const result = versatus(["simulate", "programs/token-mover", "--input", "-", "--json"], input);
    expect(result.code).to.equal(0);
    const { ingest } = JSON.parse(result.stdout);
    expect(ingest.map((chain: { chainId: string }) => chain.chainId)).to.deep.equal(["31337", "31338"]);
    expect(ingest[1].result.instructionsHash).to.match(/^0x[0-9a-f]{64}$/);
  });
});
