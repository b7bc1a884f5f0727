import { expect } from "chai";
import {
  breakEvenSingleIngests,
  refreshDecision,
  SNAPSHOT_SAVES_PER_RESULT,
  SNAPSHOT_SAVES_PER_TX,
  snapshotPays,
  snapshotSavings,
} from "../../protocol/activitySnapshot.ts";
import { loadIngestorConfig } from "../../ingestor/config.ts";
import { InvalidInputError } from "../../protocol/errors.ts";

describe("protocol/activitySnapshot: when a snapshot pays and when the keeper refreshes it", () => {
  describe("savings and break-even", () => {
    it("a transaction saves once, and each result it carries saves again", () => {
      expect(snapshotSavings({ transactions: 0, results: 0 })).to.equal(0n);
      expect(snapshotSavings({ transactions: 1, results: 1 })).to.equal(
        SNAPSHOT_SAVES_PER_TX + SNAPSHOT_SAVES_PER_RESULT,
      );
      expect(snapshotSavings({ transactions: 2, results: 40 })).to.equal(
        2n * SNAPSHOT_SAVES_PER_TX + 40n * SNAPSHOT_SAVES_PER_RESULT,
      );
    });

    it("pays when the traffic would have saved at least the snapshot's gas, not one gas less", () => {
      const perIngest = SNAPSHOT_SAVES_PER_TX + SNAPSHOT_SAVES_PER_RESULT;
      expect(snapshotPays({ transactions: 4, results: 4 }, 4n * perIngest)).to.equal(true);
      expect(snapshotPays({ transactions: 4, results: 4 }, 4n * perIngest + 1n)).to.equal(false);
      // one batch of many results pays where as many lone ingests of few results do not
      expect(snapshotPays({ transactions: 1, results: 20 }, 100_000n)).to.equal(true);
      expect(snapshotPays({ transactions: 1, results: 1 }, 100_000n)).to.equal(false);
    });

    it("break-even in single ingests rounds up, and matches snapshotPays at the boundary", () => {
      for (const gas of [1n, 79_271n, 95_243n, 200_000n]) {
        const n = breakEvenSingleIngests(gas);
        expect(snapshotPays({ transactions: n, results: n }, gas)).to.equal(true);
        expect(snapshotPays({ transactions: n - 1, results: n - 1 }, gas)).to.equal(false);
      }
    });
  });

  describe("refreshDecision", () => {
    const base = { nowSeconds: 1_000n, marginSeconds: 15, lifetimeSeconds: 119, lastSentAtSeconds: undefined };

    it("does nothing without operators", () => {
      expect(refreshDecision({ ...base, untils: [] })).to.deep.equal({ action: "none", reason: "no_operators" });
    });

    it("holds while the earliest snapshot ends after the margin, and says when to look again", () => {
      expect(refreshDecision({ ...base, untils: [1_100n, 1_050n] })).to.deep.equal({
        action: "hold",
        recheckInSeconds: 35,
      });
    });

    it("refreshes when the earliest snapshot ends within the margin, or an operator has none", () => {
      expect(refreshDecision({ ...base, untils: [1_100n, 1_015n] })).to.deep.equal({ action: "refresh" });
      expect(refreshDecision({ ...base, untils: [1_100n, 0n] })).to.deep.equal({ action: "refresh" });
    });

    it("sends at most one snapshot per refresh window (lifetime less margin) after its own last one", () => {
      const sentAt = 1_000n - 103n; // 103 s ago: the window is 104 s
      expect(refreshDecision({ ...base, untils: [0n], lastSentAtSeconds: sentAt })).to.deep.equal({
        action: "wait_window",
        recheckInSeconds: 1,
      });
      expect(refreshDecision({ ...base, untils: [0n], lastSentAtSeconds: sentAt - 1n })).to.deep.equal({
        action: "refresh",
      });
    });
  });

  describe("poster.snapshotKeeper config", () => {
    const chains = [
      {
        chainId: 31337,
        rpcUrl: "http://127.0.0.1:8545",
        oracle: "0x0000000000000000000000000000000000000001",
        ingestor: "0x0000000000000000000000000000000000000002",
      },
    ];
    const fieldOf = (snapshotKeeper: unknown): string => {
      try {
        loadIngestorConfig({ raw: { chains, poster: { snapshotKeeper } }, env: {} });
      } catch (error) {
        expect(error).to.be.instanceOf(InvalidInputError);
        return (error as InvalidInputError).field;
      }
      return expect.fail("expected an InvalidInputError");
    };

    it("is off by default (a snapshot does not pay at the devnet's rate)", () => {
      const config = loadIngestorConfig({ raw: { chains }, env: {} });
      expect(config.poster.snapshotKeeper).to.deep.include({ mode: "off", marginSeconds: 15 });
    });

    it("names the field that is wrong", () => {
      expect(fieldOf({ mode: "sometimes" })).to.equal("config poster.snapshotKeeper.mode");
      expect(fieldOf({ marginSeconds: 0 })).to.equal("config poster.snapshotKeeper.marginSeconds");
      expect(fieldOf({ retryDelayMs: 5_000, maxRetryDelayMs: 1_000 })).to.equal(
        "config poster.snapshotKeeper.maxRetryDelayMs",
      );
      expect(fieldOf({ keeperKey: "0x00" })).to.match(/^config poster\.snapshotKeeper/);
    });
  });
});
