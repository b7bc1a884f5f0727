import { expect } from "chai";
import { keccak256, toHex, type Address, type Hex, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { deriveQuorum } from "../../protocol/quorum.ts";
import { decodeRecord, encodeRecord, recordBodyHash, sortSignatures } from "../../protocol/record.ts";
import {
  attributeWork,
  MAX_CLOCK_SKEW_MS,
  planTask,
  postingSigners,
  posterSchedule,
  SHARER_BPS,
  signBackpressureReport,
  signShareOffer,
  verifyBackpressureReport,
  verifyShareOffer,
  type BackpressureReport,
  type PlanTaskArgs,
  type ShareOffer,
  type ShareRules,
  type UnsignedBackpressureReport,
} from "../../protocol/scheduling.ts";
import { sampleRecord } from "../fakes/records.ts";

const ACCOUNTS: LocalAccount[] = Array.from({ length: 7 }, (_, i) =>
  privateKeyToAccount(keccak256(toHex(`scheduling test operator ${i}`))),
);
/** Six active operators; the seventh key belongs to nobody in the set. */
const ACTIVE: Address[] = ACCOUNTS.slice(0, 6).map((a) => a.address);
const OUTSIDER = ACCOUNTS[6]!;
const CHAIN = "31337";
const REQUEST: Hex = keccak256(toHex("scheduling test request"));
const SIZE = 3;
const QUORUM = deriveQuorum({ chainId: CHAIN, requestId: REQUEST, activeSet: ACTIVE, size: SIZE });
const [M0, M1, M2] = QUORUM.members as [Address, Address, Address];
const [S0, S1, S2] = QUORUM.standby as [Address, Address, Address];
const T0 = 1_800_000_000_000;
const TIMING = { stealAfterMs: 10_000, stealStepMs: 2_000, staleAfterMs: 15_000 };
const PROGRAM: Hex = keccak256(toHex("program"));

function account(address: Address): LocalAccount {
  return ACCOUNTS.find((a) => a.address === address)!;
}

function report(operator: Address, fields: Partial<UnsignedBackpressureReport> = {}): Promise<BackpressureReport> {
  return signBackpressureReport(account(operator), {
    operator,
    depth: 0,
    capacity: 4,
    kinds: ["execute"],
    programs: null,
    issuedAt: T0,
    ...fields,
  });
}

const full = (operator: Address, issuedAt = T0) => report(operator, { depth: 4, capacity: 4, issuedAt });

async function offer(from: Address, to: Address, fields: Partial<Omit<ShareOffer, "signature">> = {}) {
  return signShareOffer(account(from), {
    chainId: CHAIN,
    requestId: REQUEST,
    from,
    to,
    report: fields.report ?? (await full(from)),
    issuedAt: T0 + 100,
    ...fields,
  });
}

const RULES: ShareRules = {
  chainId: CHAIN,
  requestId: REQUEST,
  activeSet: ACTIVE,
  quorumSize: SIZE,
  maxAgeMs: TIMING.staleAfterMs,
  now: T0 + 200,
};

function plan(self: Address, fields: Partial<PlanTaskArgs> = {}) {
  return planTask({
    chainId: CHAIN,
    requestId: REQUEST,
    activeSet: ACTIVE,
    quorumSize: SIZE,
    self,
    now: T0 + 200,
    announcedAt: T0,
    reports: new Map(),
    signed: new Set(),
    shares: [],
    timing: TIMING,
    ...fields,
  });
}

const reportsOf = (list: BackpressureReport[]) => new Map(list.map((r) => [r.operator.toLowerCase(), r]));
const signedBy = (...ops: Address[]) => new Set(ops.map((o) => o.toLowerCase()));

describe("protocol/scheduling: leaderless scheduling rules", () => {
  describe("backpressure reports", () => {
    it("a report signed by its operator verifies while fresh (and slightly ahead, within the clock skew)", async () => {
      const r = await report(M0);
      expect(await verifyBackpressureReport(r, { now: T0 + 1_000, maxAgeMs: 15_000 })).to.deep.equal({ ok: true });
      expect(await verifyBackpressureReport(r, { now: T0 - MAX_CLOCK_SKEW_MS, maxAgeMs: 15_000 })).to.deep.equal({
        ok: true,
      });
      const restricted = await report(M0, { programs: [PROGRAM] });
      expect((await verifyBackpressureReport(restricted, { now: T0, maxAgeMs: 1 })).ok).to.equal(true);
    });

    it("a report with any field changed after signing is a bad signature (an inflated depth cannot be forged)", async () => {
      const r = await report(M0);
      for (const changed of [
        { ...r, depth: 9 },
        { ...r, capacity: 1 },
        { ...r, kinds: ["execute", "other"] },
        { ...r, programs: [] },
        { ...r, issuedAt: r.issuedAt + 1 },
      ]) {
        expect(await verifyBackpressureReport(changed, { now: T0, maxAgeMs: 15_000 })).to.deep.equal({
          ok: false,
          reason: "bad_signature",
        });
      }
    });

    it("a report signed by another key in the operator's name is a bad signature", async () => {
      const forged = await signBackpressureReport(OUTSIDER, {
        operator: OUTSIDER.address,
        depth: 9,
        capacity: 4,
        kinds: ["execute"],
        programs: null,
        issuedAt: T0,
      });
      const claimed = { ...forged, operator: M0 };
      expect((await verifyBackpressureReport(claimed, { now: T0, maxAgeMs: 15_000 })).ok).to.equal(false);
      const refused = await signBackpressureReport(OUTSIDER, { ...claimed }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).to.be.instanceOf(TypeError);
    });

    it("a replayed old report is stale, one dated in the future beyond the skew is refused", async () => {
      const r = await report(M0);
      expect(await verifyBackpressureReport(r, { now: T0 + 15_001, maxAgeMs: 15_000 })).to.deep.equal({
        ok: false,
        reason: "stale",
      });
      expect(await verifyBackpressureReport(r, { now: T0 - MAX_CLOCK_SKEW_MS - 1, maxAgeMs: 15_000 })).to.deep.equal({
        ok: false,
        reason: "future",
      });
    });

    it("a malformed report is refused before any signature work, naming the field", async () => {
      const r = await report(M0);
      const cases: [unknown, string][] = [
        [{ ...r, depth: -1 }, "depth"],
        [{ ...r, depth: 1.5 }, "depth"],
        [{ ...r, capacity: 0 }, "capacity"],
        [{ ...r, kinds: Array.from({ length: 33 }, (_, i) => `k${i}`) }, "kinds"],
        [{ ...r, kinds: [""] }, "kinds"],
        [{ ...r, programs: ["0x12"] }, "programs"],
        [{ ...r, operator: "0x12" }, "operator"],
        [{ ...r, issuedAt: -5 }, "issuedAt"],
        [{ ...r, signature: "0x00" }, "signature"],
      ];
      for (const [bad, field] of cases) {
        expect(await verifyBackpressureReport(bad as BackpressureReport, { now: T0, maxAgeMs: 15_000 })).to.deep.equal({
          ok: false,
          reason: "malformed",
          detail: field,
        });
      }
    });
  });

  describe("share offers", () => {
    it("a member over capacity may share its slot with a standby, attaching its own fresh full report", async () => {
      expect(await verifyShareOffer(await offer(M0, S0), RULES)).to.deep.equal({ ok: true });
    });

    it("a standby forging a member's offer to itself (to earn the fee) fails the signature, even with the member's real report", async () => {
      const realReport = await full(M0);
      const forged = await signShareOffer(account(S1), {
        chainId: CHAIN,
        requestId: REQUEST,
        from: S1,
        to: S1,
        report: realReport,
        issuedAt: T0 + 100,
      });
      expect(await verifyShareOffer({ ...forged, from: M0 }, RULES)).to.deep.equal({
        ok: false,
        reason: "bad_signature",
      });
      // and a made-up report in the member's name fails on the report's signature
      const fakeReport = { ...(await full(S1)), operator: M0 };
      const withFake = await offer(M0, S1, { report: fakeReport });
      expect(await verifyShareOffer(withFake, RULES)).to.deep.equal({ ok: false, reason: "report_bad_signature" });
    });

    it("only a member can share, only to an active operator outside the quorum", async () => {
      expect(await verifyShareOffer(await offer(S0, S1), RULES)).to.deep.equal({ ok: false, reason: "not_member" });
      expect(await verifyShareOffer(await offer(M0, M1), RULES)).to.deep.equal({ ok: false, reason: "to_in_quorum" });
      expect(await verifyShareOffer(await offer(M0, OUTSIDER.address), RULES)).to.deep.equal({
        ok: false,
        reason: "to_inactive",
      });
    });

    it("a member replaying an old over-capacity report to dodge work is refused (report stale when the offer was made)", async () => {
      const old = await full(M0, T0 - 60_000);
      expect(await verifyShareOffer(await offer(M0, S0, { report: old }), RULES)).to.deep.equal({
        ok: false,
        reason: "report_stale",
      });
    });

    it("a report that shows room cannot justify sharing, and the report must be the sender's own", async () => {
      expect(await verifyShareOffer(await offer(M0, S0, { report: await report(M0) }), RULES)).to.deep.equal({
        ok: false,
        reason: "not_over_capacity",
      });
      expect(await verifyShareOffer(await offer(M0, S0, { report: await full(M1) }), RULES)).to.deep.equal({
        ok: false,
        reason: "report_not_from_sender",
      });
    });

    it("a report dated after its offer (beyond the skew) cannot back it", async () => {
      const later = await full(M0, T0 + 100 + MAX_CLOCK_SKEW_MS + 1);
      expect(
        await verifyShareOffer(await offer(M0, S0, { report: later }), { ...RULES, now: T0 + 10_000 }),
      ).to.deep.equal({ ok: false, reason: "report_future" });
    });

    it("an offer for another request, or an old offer replayed later, is refused", async () => {
      const valid = await offer(M0, S0);
      const other = await offer(M0, S0, { requestId: keccak256(toHex("another")) });
      expect(await verifyShareOffer(other, RULES)).to.deep.equal({ ok: false, reason: "wrong_request" });
      expect(await verifyShareOffer(valid, { ...RULES, now: T0 + 100 + 15_001 })).to.deep.equal({
        ok: false,
        reason: "stale",
      });
      expect(await verifyShareOffer({ ...valid, chainId: "x" }, RULES)).to.deep.equal({
        ok: false,
        reason: "malformed",
      });
    });
  });

  describe("planTask: what a node does about a request", () => {
    it("members compute right away; an operator outside the active set, or one that already signed, does nothing", () => {
      for (const member of [M0, M1, M2]) expect(plan(member)).to.include({ action: "compute", at: T0 });
      expect(plan(OUTSIDER.address).action).to.equal("none");
      expect(plan(M0, { signed: signedBy(M0) }).action).to.equal("none");
    });

    it("a member whose fresh report shows it full shares with the closest standby whose fresh report shows room", async () => {
      // S0 is silent (no report) and S1 is full: S2 is the first standby known to have room
      const reports = reportsOf([await full(M0), await full(S1), await report(S2)]);
      expect(plan(M0, { reports })).to.include({ action: "share", shareTo: S2, at: T0 });
      const roomAtS0 = reportsOf([await full(M0), await report(S0), await report(S2)]);
      expect(plan(M0, { reports: roomAtS0 })).to.include({ action: "share", shareTo: S0 });
    });

    it("a standby that does not run the program is never shared to", async () => {
      const other = await report(S0, { programs: [keccak256(toHex("other program"))] });
      const reports = reportsOf([await full(M0), other, await report(S1)]);
      expect(plan(M0, { reports, programId: PROGRAM })).to.include({ action: "share", shareTo: S1 });
    });

    it("a member with a stale over-capacity report computes (an old report cannot dodge work)", async () => {
      const reports = reportsOf([await full(M0, T0 - 60_000), await report(S0)]);
      expect(plan(M0, { reports })).to.include({ action: "compute" });
    });

    it("a full member with no standby that has room computes anyway, and one that already shared stops", async () => {
      expect(plan(M0, { reports: reportsOf([await full(M0)]) })).to.include({ action: "compute" });
      const reports = reportsOf([await full(M0), await report(S0)]);
      expect(plan(M0, { reports, shares: [await offer(M0, S0)] }).action).to.equal("none");
    });

    it("two full members share with two different standbys", async () => {
      const reports = reportsOf([await full(M0), await full(M1), await report(S0), await report(S1)]);
      const first = plan(M0, { reports });
      expect(first).to.include({ action: "share", shareTo: S0 });
      expect(plan(M1, { reports, shares: [await offer(M0, S0)] })).to.include({ action: "share", shareTo: S1 });
    });

    it("a standby computes a slot validly shared to it, and ignores an offer from a non-member", async () => {
      expect(plan(S0, { shares: [await offer(M1, S0)] })).to.include({ action: "compute", sharedFrom: M1 });
      expect(plan(S0, { shares: [await offer(S1, S0)] }).action).to.equal("wait");
    });

    it("a standby ignores a share offer that has gone stale, and then only steals in its turn", async () => {
      const old = await offer(M1, S0);
      const now = T0 + 100 + TIMING.staleAfterMs + 1;
      expect(plan(S0, { shares: [old], signed: signedBy(M0, M2), now })).to.deep.include({ action: "steal" });
      expect(plan(S0, { shares: [old], signed: signedBy(M0, M1, M2), now }).action).to.equal("none");
    });

    it("standbys wait until stealAfterMs, then the first steals an unanswered slot and the next one stealStepMs later", () => {
      const signed = signedBy(M0, M1);
      expect(plan(S0, { signed })).to.deep.include({ action: "wait", at: T0 + 10_000 });
      expect(plan(S0, { signed, now: T0 + 10_000 })).to.deep.include({ action: "steal", at: T0 + 10_000 });
      expect(plan(S1, { signed, now: T0 + 10_000 })).to.deep.include({ action: "wait", at: T0 + 12_000 });
      expect(plan(S2, { signed, now: T0 + 10_000 })).to.deep.include({ action: "wait", at: T0 + 14_000 });
      // the first stealer signed: the slot is answered, nobody else steals
      expect(plan(S1, { signed: signedBy(M0, M1, S0), now: T0 + 12_000 }).action).to.equal("none");
    });

    it("with two slots open the first two standbys steal at once", () => {
      const signed = signedBy(M2);
      expect(plan(S0, { signed, now: T0 + 10_000 }).action).to.equal("steal");
      expect(plan(S1, { signed, now: T0 + 10_000 }).action).to.equal("steal");
      expect(plan(S2, { signed, now: T0 + 10_000 })).to.deep.include({ action: "wait", at: T0 + 12_000 });
    });

    it("nobody steals once every member answered (claiming a steal is then not a plan)", () => {
      expect(plan(S0, { signed: signedBy(M0, M1, M2), now: T0 + 60_000 }).action).to.equal("none");
    });

    it("a standby whose fresh report shows it full is skipped, the next one steals in its place", async () => {
      const reports = reportsOf([await full(S0, T0 + 9_000)]);
      const signed = signedBy(M0, M1);
      expect(plan(S0, { signed, reports, now: T0 + 10_000 }).action).to.equal("none");
      expect(plan(S1, { signed, reports, now: T0 + 10_000 }).action).to.equal("steal");
    });

    it("a standby with a stale full report must still steal in its turn (an old report cannot dodge stealing)", async () => {
      const reports = reportsOf([await full(S0, T0 - 60_000)]);
      expect(plan(S0, { signed: signedBy(M0, M1), reports, now: T0 + 10_000 }).action).to.equal("steal");
    });

    it("a report filed under another operator's key is not used", async () => {
      const reports = new Map([[M0.toLowerCase(), await full(M1)]]);
      expect(plan(M0, { reports: new Map([...reports, [S0.toLowerCase(), await report(S0)]]) }).action).to.equal(
        "compute",
      );
    });
  });

  describe("attributeWork: who did the work", () => {
    const base = {
      chainId: CHAIN,
      requestId: REQUEST,
      activeSet: ACTIVE,
      quorumSize: SIZE,
      maxAgeMs: TIMING.staleAfterMs,
    };
    const sorted = <T extends { operator: Address }>(list: T[]) =>
      [...list].sort((a, b) => (BigInt(a.operator) < BigInt(b.operator) ? -1 : 1));

    it("members that signed did their own slots", () => {
      expect(attributeWork({ ...base, signers: [M2, M0, M1], shares: [] })).to.deep.equal(
        sorted([M0, M1, M2].map((operator) => ({ operator, how: "quorum" as const }))),
      );
    });

    it("a standby that signed for a silent member stole that member's slot (and the slow member earns nothing)", () => {
      const work = attributeWork({ ...base, signers: [M0, M2, S0], shares: [] });
      expect(work).to.deep.equal(
        sorted([
          { operator: M0, how: "quorum" },
          { operator: M2, how: "quorum" },
          { operator: S0, how: "stolen", slotOf: M1 },
        ]),
      );
      expect(work.map((a) => a.operator)).to.not.include(M1);
    });

    it("a standby claiming a steal when every member answered is only an extra signer", () => {
      const work = attributeWork({ ...base, signers: [M0, M1, M2, S1], shares: [] });
      expect(work.find((a) => a.operator === S1)).to.deep.equal({ operator: S1, how: "extra" });
      expect(work.filter((a) => a.how === "stolen")).to.deep.equal([]);
    });

    it("a validly shared slot is the worker's, with a small share recorded for the member that shared", async () => {
      const work = attributeWork({ ...base, signers: [M1, M2, S1], shares: [await offer(M0, S1)] });
      expect(work.find((a) => a.operator === S1)).to.deep.equal({
        operator: S1,
        how: "shared-in",
        sharedFrom: M0,
        sharerBps: SHARER_BPS,
      });
    });

    it("a forged or replayed share offer earns no shared-in attribution", async () => {
      const notMember = await offer(S2, S1);
      const staleReport = await offer(M0, S1, { report: await full(M0, T0 - 60_000) });
      const roomy = await offer(M0, S1, { report: await report(M0) });
      for (const shares of [[notMember], [staleReport], [roomy]]) {
        const work = attributeWork({ ...base, signers: [M1, M2, S1], shares });
        expect(work.find((a) => a.operator === S1)).to.deep.equal({ operator: S1, how: "stolen", slotOf: M0 });
      }
    });

    it("posting prefers members, then shared-in workers, then stealers, and extra signers last", async () => {
      const work = attributeWork({ ...base, signers: [S2, S0, M2, S1], shares: [await offer(M0, S1)] });
      // M0 shared to S1, M1 was silent (S0 stole its slot: S0 is the first standby), S2 is extra
      expect(postingSigners(work)).to.deep.equal([M2, S1, S0, S2]);
      expect(work.find((a) => a.operator === S2)).to.deep.equal({ operator: S2, how: "extra" });
    });

    it("what attributeWork returns is what a version 3 record carries, and it leaves bodyHash alone", async () => {
      const sample = sampleRecord();
      const signers = [M0, M2, S1, S0];
      const signatures = sortSignatures(
        signers.map((signer, i) => ({ chainId: 31337n, signer, signature: `0x${String(i + 1).repeat(130)}` as Hex })),
      );
      const attributions = attributeWork({ ...base, signers, shares: [await offer(M1, S1)] });
      const record = { body: { ...sample.body, instructions: [] }, signatures, attributions };
      const decoded = decodeRecord(encodeRecord(record));
      expect(decoded.attributions).to.deep.equal(attributions);
      expect(decoded.attributions!.map((a) => a.how).sort()).to.deep.equal(["extra", "quorum", "quorum", "shared-in"]);
      expect(recordBodyHash(decoded.body)).to.equal(recordBodyHash(record.body));
    });

    it("signers outside the active set are left out (the ingestor refuses them)", () => {
      const work = attributeWork({ ...base, signers: [M0, M1, M2, OUTSIDER.address], shares: [] });
      expect(work.map((a) => a.operator)).to.not.include(OUTSIDER.address);
      expect(work).to.have.length(3);
    });
  });

  describe("posterSchedule: posting rotates per request", () => {
    const POSTERS = ACTIVE.slice(0, 4);

    it("posters take turns by XOR distance from the request, the i-th after i fallback delays", () => {
      const turns = posterSchedule({ chainId: CHAIN, requestId: REQUEST, posters: POSTERS, fallbackDelayMs: 4_000 });
      const ranked = deriveQuorum({ chainId: CHAIN, requestId: REQUEST, activeSet: POSTERS, size: 4 }).members;
      expect(turns).to.deep.equal(ranked.map((poster, i) => ({ poster, notBefore: i * 4_000 })));
      expect(
        posterSchedule({ chainId: CHAIN, requestId: REQUEST, posters: [...POSTERS].reverse(), fallbackDelayMs: 4_000 }),
      ).to.deep.equal(turns);
    });

    it("the first poster changes from request to request", () => {
      const firsts = new Set(
        Array.from(
          { length: 40 },
          (_, i) =>
            posterSchedule({
              chainId: CHAIN,
              requestId: keccak256(toHex(`request ${i}`)),
              posters: POSTERS,
              fallbackDelayMs: 1,
            })[0]!.poster,
        ),
      );
      expect(firsts.size).to.equal(POSTERS.length);
      expect(() =>
        posterSchedule({ chainId: CHAIN, requestId: REQUEST, posters: POSTERS, fallbackDelayMs: -1 }),
      ).to.throw(RangeError);
    });
  });
});
