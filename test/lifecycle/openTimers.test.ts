import { expect } from "chai";
import { promisify } from "node:util";
import { openTimers } from "../helpers/openTimers.ts";

/** The root hook's timer tracking (test/helpers/openTimers.ts) must not change how timers behave. */
describe("open-timer tracking of the test run", () => {
  it("keeps promisify(setTimeout) working (libraries sleep that way)", async () => {
    const sleep = promisify(setTimeout);
    expect(await sleep(10, "slept")).to.equal("slept");
  });

  it("names a ref'd timer while it is pending and forgets it once cleared", () => {
    const timer = setInterval(() => {}, 60_000);
    try {
      expect(openTimers().some((t) => t.includes("openTimers.test.ts"))).to.equal(true);
    } finally {
      clearInterval(timer);
    }
    expect(openTimers().some((t) => t.includes("openTimers.test.ts"))).to.equal(false);
  });
});
