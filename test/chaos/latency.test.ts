import { expect } from "chai";
import { percentile } from "../../bench/stats.ts";
import { latencySplit } from "../../chaos/latency.ts";

describe("chaos latency: requests split by whether a fault window touched them", () => {
  it("a request counts as during a fault when any moment from its sending to its result lies in a window", () => {
    const windows = [{ beganS: 10, endedS: 20 }];
    const split = latencySplit(
      [
        { sentS: 0, seenS: 1 }, // before: outside
        { sentS: 9, seenS: 10 }, // result seen as the fault began: during
        { sentS: 12, seenS: 13 }, // inside
        { sentS: 20, seenS: 25 }, // sent as it ended: during
        { sentS: 21, seenS: 21.5 }, // after: outside
      ],
      windows,
    );
    expect(split.outside_faults).to.deep.equal({ n: 2, p50_ms: 500, p99_ms: 1000, max_ms: 1000 });
    expect(split.during_faults.n).to.equal(3);
    expect(split.during_faults.max_ms).to.equal(5000);
    // the slowest requests no fault explains come first, with what identifies them
    expect(split.slowest_outside_faults).to.deep.equal([
      { sentS: 0, seenS: 1 },
      { sentS: 21, seenS: 21.5 },
    ]);
  });

  it("a window that never ended is open until the last result; no samples give NaN, not a number that was never seen", () => {
    const split = latencySplit([{ sentS: 50, seenS: 60 }], [{ beganS: 55, endedS: NaN }]);
    expect(split.during_faults.n).to.equal(1);
    expect(split.outside_faults.n).to.equal(0);
    expect(Number.isNaN(split.outside_faults.p99_ms)).to.equal(true);
  });

  it("percentile is the nearest rank: p50 of 1..4 is 2, p99 of 1..100 is 99, p100 the maximum", () => {
    expect(percentile([1, 2, 3, 4], 50)).to.equal(2);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        99,
      ),
    ).to.equal(99);
    expect(percentile([5, 7], 100)).to.equal(7);
    expect(percentile([5], 0)).to.equal(5);
  });
});
