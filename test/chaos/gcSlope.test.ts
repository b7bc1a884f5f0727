import { expect } from "chai";
import { rssSlopeBetweenGcs } from "../../chaos/run.ts";

const gc = (groupRssMb: number) => ({ heapUsedMb: 100, heapTotalMb: 110, rssMb: groupRssMb, groupRssMb });

describe("chaos soak: RSS growth between two forced full GCs", () => {
  it("is the after-GC RSS change per minute between the early and the end-of-run collection", () => {
    const slopes = rssSlopeBetweenGcs({
      afterGcEarly: { "node-1": { ...gc(400), atS: 300 }, "node-2": { ...gc(420), atS: 302 } },
      afterGc: { "node-1": gc(430), "node-2": gc(415) },
      afterGcAtS: 1_800 + 300,
    });
    expect(slopes["node-1"]).to.equal(1); // 30 MB over 30 minutes
    // rounded to 0.01 MB/min (-5 MB over 29.97 minutes); not closeTo: hardhat-chai-matchers overrides it for integers
    expect(slopes["node-2"]).to.equal(-0.17);
  });

  it("leaves out a node whose early or end collection failed, and a run without an end collection", () => {
    const early = { "node-1": { error: "no inspector" }, "node-2": { ...gc(400), atS: 300 } };
    expect(
      rssSlopeBetweenGcs({
        afterGcEarly: early,
        afterGc: { "node-1": gc(1), "node-2": { error: "x" } },
        afterGcAtS: 900,
      }),
    ).to.deep.equal({});
    expect(rssSlopeBetweenGcs({ afterGcEarly: early, afterGc: { "node-2": gc(500) } })).to.deep.equal({});
  });
});
