import { expect } from "chai";
import { createProgress, isInteractive } from "../../protocol/progress.ts";

/** A stream that records what was written, as a terminal or as a log file. */
function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { stream: { isTTY, write: (c: string) => chunks.push(c) }, text: () => chunks.join("") };
}

describe("progress for long work (protocol/progress.ts)", () => {
  it("is interactive only on a TTY outside CI", () => {
    expect(isInteractive({ isTTY: true, write: () => {} }, {})).to.equal(true);
    expect(isInteractive({ isTTY: true, write: () => {} }, { CI: "true" })).to.equal(false);
    expect(isInteractive({ isTTY: true, write: () => {} }, { CI: "false" })).to.equal(true);
    expect(isInteractive({ isTTY: false, write: () => {} }, {})).to.equal(false);
  });

  it("writes plain, complete lines when not interactive: numbered steps with their time, a bar at each quarter", async () => {
    let t = 0;
    const out = sink(false);
    const progress = createProgress({ title: "deploy", steps: 2, stream: out.stream, now: () => t });
    await progress.step("oracle", () => {
      t += 1500;
    });
    const bar = progress.bar("requests", 8);
    for (let i = 0; i < 8; i++) bar.tick();
    bar.done();
    const s = progress.start("ingestor");
    s.fail("reverted");
    progress.done();
    const text = out.text();
    expect(text).to.not.match(/\r|\x1b/);
    expect(text.split("\n")).to.deep.equal([
      "deploy",
      "[1/2] oracle",
      "[1/2] done: oracle (1.5 s)",
      "requests: 0/8 (0%)",
      "requests: 2/8 (25%)",
      "requests: 4/8 (50%)",
      "requests: 6/8 (75%)",
      "requests: 8/8 (100%)",
      "requests: 8/8 in 0.0 s",
      "[2/2] ingestor",
      "[2/2] failed: ingestor (0.0 s, reverted)",
      "2 steps in 1.5 s",
      "",
    ]);
  });

  it("redraws a step and a bar in place on a terminal, keeps log lines above them, and rethrows a failed step", async () => {
    const out = sink(true);
    const progress = createProgress({ steps: 1, stream: out.stream, interactive: true, now: () => 0 });
    const bar = progress.bar("mined", 4);
    bar.update(2);
    progress.log("a line of its own");
    bar.done();
    const failing = progress.step("build", () => {
      throw new Error("no compiler");
    });
    await failing.then(
      () => expect.fail("the step's error must reach the caller"),
      (e: Error) => expect(e.message).to.equal("no compiler"),
    );
    const text = out.text();
    expect(text).to.contain("\r\x1b[2Kmined [████████████░░░░░░░░░░░░] 2/4 50%");
    expect(text).to.contain("\r\x1b[2Ka line of its own\n\r\x1b[2Kmined [");
    expect(text).to.contain("✔ mined: 2/4 in 0.0 s\n");
    expect(text).to.contain("[1/1] ✖ build (0.0 s)\n");
  });
});
