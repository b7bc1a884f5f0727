import { expect } from "chai";
import { Closer } from "../../protocol/closer.ts";

describe("Closer: a service's stop as steps", () => {
  it("runs every step in reverse order even when one throws, and reports the failure", async () => {
    const ran: string[] = [];
    const closer = new Closer();
    closer.add("redis", () => void ran.push("redis"));
    closer.add("queue", async () => {
      ran.push("queue");
      throw new Error("queue close failed");
    });
    closer.add("worker", () => void ran.push("worker"));
    const report = await closer.close();
    expect(ran).to.deep.equal(["worker", "queue", "redis"]);
    expect(report.failed.map((f) => f.step)).to.deep.equal(["queue"]);
    expect(String(report.failed[0]!.error)).to.contain("queue close failed");
  });

  it("moves on from a step that hangs past its bound", async () => {
    const ran: string[] = [];
    const closer = new Closer();
    closer.add("after", () => void ran.push("after"));
    closer.add("stuck", () => new Promise(() => {}), 50);
    const report = await closer.close();
    expect(ran).to.deep.equal(["after"]);
    expect(report.timedOut).to.deep.equal(["stuck"]);
  });

  it("a second close() returns the first one's promise and runs nothing again", async () => {
    let runs = 0;
    const closer = new Closer();
    closer.add("once", () => void runs++);
    const first = closer.close();
    expect(closer.close()).to.equal(first);
    await first;
    expect(runs).to.equal(1);
    expect(() => closer.add("late", () => {})).to.throw(/already closing/);
  });
});
