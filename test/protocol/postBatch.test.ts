import { expect } from "chai";
import { BATCH_BLOCK_SHARE, batchCapacity, flushDecision } from "../../protocol/postBatch.ts";

describe("protocol/postBatch: how a poster sizes and times its batches", () => {
  describe("batchCapacity: results per batch from the measured block gas limit", () => {
    it("before any batch, or without a block gas limit, the configured maximum", () => {
      expect(batchCapacity({ maxBatchSize: 200 })).to.equal(200);
      expect(batchCapacity({ maxBatchSize: 200, blockGasLimit: 30_000_000n })).to.equal(200);
      expect(batchCapacity({ maxBatchSize: 200, lastBatch: { gasLimit: 300_000n, size: 1 } })).to.equal(200);
    });

    /** Capacity on a 30M-gas block after a batch of `size` results that asked for `gasLimit`. */
    const after = (gasLimit: bigint, size: number, maxBatchSize = 200, blockShare?: number) =>
      batchCapacity({
        maxBatchSize,
        blockGasLimit: 30_000_000n,
        lastBatch: { gasLimit, size },
        ...(blockShare ? { blockShare } : {}),
      });

    it("as many results as fit in half the block at the last batch's gas limit per result", () => {
      // 3 results asked for 900k: 300k each; half of 30M holds 50 of them
      expect(BATCH_BLOCK_SHARE).to.equal(0.5);
      expect(after(900_000n, 3)).to.equal(50);
      // a heavier last batch shrinks the next one, a lighter one grows it
      expect(after(1_500_000n, 1)).to.equal(10);
      expect(after(150_000n, 1)).to.equal(100);
      expect(after(150_000n, 1, 200, 1)).to.equal(200);
    });

    it("a batch ends up below the block gas limit: capacity × gas per result stays within the share", () => {
      for (const perResult of [131_000n, 290_000n, 777_777n, 4_000_000n]) {
        const capacity = after(perResult * 7n, 7, 500);
        if (capacity > 1) expect(BigInt(capacity) * perResult <= 15_000_000n).to.equal(true);
      }
    });

    it("never below one result, never above the configured maximum", () => {
      expect(after(40_000_000n, 1, 50)).to.equal(1);
      expect(after(1_000n, 1, 50)).to.equal(50);
    });

    it("rejects a non-positive maximum or a share outside (0, 1]", () => {
      expect(() => batchCapacity({ maxBatchSize: 0 })).to.throw(RangeError);
      expect(() => batchCapacity({ maxBatchSize: 10, blockShare: 0 })).to.throw(RangeError);
      expect(() => batchCapacity({ maxBatchSize: 10, blockShare: 1.5 })).to.throw(RangeError);
    });
  });

  describe("flushDecision: group commit, and a linger only while results stream in", () => {
    const base = { queued: 1, capacity: 50, inFlight: false, oldestWaitedMs: 0, gapBeforeOldestMs: 5, lingerMs: 50 };

    it("a lone result (none arrived in the linger before it) goes at once: no latency added at low load", () => {
      expect(flushDecision({ ...base, gapBeforeOldestMs: Infinity })).to.deep.equal({ action: "send" });
      expect(flushDecision({ ...base, gapBeforeOldestMs: 50 })).to.deep.equal({ action: "send" });
    });

    it("results streaming in linger for the rest of lingerMs, then go", () => {
      expect(flushDecision({ ...base, oldestWaitedMs: 20 })).to.deep.equal({ action: "wait", ms: 30 });
      expect(flushDecision({ ...base, oldestWaitedMs: 50 })).to.deep.equal({ action: "send" });
    });

    it("a full batch goes at once, lingering or not", () => {
      expect(flushDecision({ ...base, queued: 50 })).to.deep.equal({ action: "send" });
      expect(flushDecision({ ...base, queued: 80 })).to.deep.equal({ action: "send" });
    });

    it("while a transaction is in flight the next batch fills (no timer), however full or old", () => {
      expect(flushDecision({ ...base, inFlight: true, queued: 80, oldestWaitedMs: 10_000 })).to.deep.equal({
        action: "hold",
      });
    });

    it("nothing in hand: nothing to do", () => {
      expect(flushDecision({ ...base, queued: 0 })).to.deep.equal({ action: "hold" });
    });
  });
});
