import { expect } from "chai";
import type { Address, Hex } from "viem";
import { postedSignatures } from "../../ingestor/collector.ts";
import type { OperatorSignature, RecordAttribution } from "../../protocol/record.ts";

const op = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
const sig = (n: number): OperatorSignature => ({
  chainId: 31337n,
  signer: op(n) as Hex,
  signature: `0x${n.toString(16).padStart(2, "0").repeat(65)}` as Hex,
});

describe("collector: which matching signatures are posted", () => {
  it("posts every signature when there are no more than the threshold", () => {
    expect(postedSignatures([sig(1), sig(2), sig(3)], [], 3)).to.deep.equal([sig(1), sig(2), sig(3)]);
  });

  it("an extra signer earns nothing when the members' signatures reach the threshold", () => {
    const attributions: RecordAttribution[] = [
      { operator: op(1), how: "extra" },
      { operator: op(2), how: "quorum" },
      { operator: op(3), how: "quorum" },
      { operator: op(4), how: "quorum" },
    ];
    const posted = postedSignatures([sig(1), sig(2), sig(3), sig(4)], attributions, 3);
    expect(posted.map((s) => s.signer)).to.deep.equal([op(2), op(3), op(4)]);
  });

  it("a stealer is posted before an extra signer, and the result stays in ascending signer order", () => {
    const attributions: RecordAttribution[] = [
      { operator: op(1), how: "stolen", slotOf: op(9) },
      { operator: op(2), how: "extra" },
      { operator: op(3), how: "quorum" },
      { operator: op(4), how: "quorum" },
    ];
    const posted = postedSignatures([sig(4), sig(3), sig(2), sig(1)], attributions, 3);
    expect(posted.map((s) => s.signer)).to.deep.equal([op(1), op(3), op(4)]);
  });

  it("signers the collector could not attribute come last", () => {
    const attributions: RecordAttribution[] = [
      { operator: op(2), how: "quorum" },
      { operator: op(3), how: "quorum" },
    ];
    const posted = postedSignatures([sig(1), sig(2), sig(3)], attributions, 2);
    expect(posted.map((s) => s.signer)).to.deep.equal([op(2), op(3)]);
  });
});
