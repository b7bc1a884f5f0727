import { expect } from "chai";
import { createHash } from "node:crypto";
import {
  blockMatchesCid,
  cidOfContentId,
  contentHolders,
  contentIdOfCid,
  mayDrop,
  placementEpoch,
  programCid,
} from "../../protocol/content.ts";
import { rawCid } from "../../content/bundle.ts";
import { programIdOf } from "../../protocol/programPackage.ts";

const peers = Array.from({ length: 12 }, (_, i) => `12D3KooWpeer${i.toString().padStart(2, "0")}`);
const cids = Array.from({ length: 40 }, (_, i) => rawCid(Buffer.from(`resource ${i}`)).toString());

describe("protocol/content: placement of cached resources", () => {
  it("picks the same R holders whatever the order of the persist set, and R distinct ones", () => {
    const holders = contentHolders(cids[0]!, peers, 7, 3);
    expect(holders).to.have.length(3);
    expect(new Set(holders).size).to.equal(3);
    expect(contentHolders(cids[0]!, [...peers].reverse(), 7, 3)).to.deep.equal(holders);
    expect(contentHolders(cids[0]!, [...peers, ...peers], 7, 3)).to.deep.equal(holders);
  });

  it("holds a resource on every persist node when there are fewer than R", () => {
    expect(contentHolders(cids[1]!, peers.slice(0, 2), 1, 3).sort()).to.deep.equal(peers.slice(0, 2).sort());
  });

  it("rotates: the holders of most resources change from one epoch to the next", () => {
    const changed = cids.filter(
      (cid) => contentHolders(cid, peers, 1, 3).join() !== contentHolders(cid, peers, 2, 3).join(),
    ).length;
    expect(changed).to.be.greaterThan(cids.length / 2);
    expect(placementEpoch(59_999, 60_000)).to.equal(0);
    expect(placementEpoch(60_000, 60_000)).to.equal(1);
    expect(() => placementEpoch(1, 0)).to.throw(RangeError);
  });

  it("spreads resources over the persist set (no node holds everything)", () => {
    const load = new Map<string, number>();
    for (const cid of cids) for (const p of contentHolders(cid, peers, 3, 3)) load.set(p, (load.get(p) ?? 0) + 1);
    expect(Math.max(...load.values())).to.be.lessThan(cids.length);
    expect(load.size).to.be.greaterThan(peers.length / 2);
  });

  it("never lets a holder drop, and lets a non-holder drop only once every holder has the resource", () => {
    const cid = cids[2]!;
    const holders = contentHolders(cid, peers, 5, 3);
    const outsider = peers.find((p) => !holders.includes(p))!;
    const base = { cid, persistNodes: peers, epoch: 5, replicas: 3 };
    expect(mayDrop({ ...base, self: holders[0]!, has: () => true })).to.equal(false);
    expect(mayDrop({ ...base, self: outsider, has: (p) => p !== holders[2] })).to.equal(false);
    expect(mayDrop({ ...base, self: outsider, has: () => true })).to.equal(true);
  });

  it("keeps at least R copies through rotations, a node at a time, whatever the order the nodes act in", () => {
    // A round-by-round simulation of the rule every persist node runs (content/node.ts reconcile):
    // in each round a holder without the resource fetches it (done at the end of the round, as a
    // fetch takes time), a non-holder drops it when every holder reports having it. The count is
    // checked after every single action.
    const R = 3;
    for (const cid of cids.slice(0, 10)) {
      const has = new Set(contentHolders(cid, peers, 0, R));
      for (let epoch = 1; epoch <= 6; epoch++) {
        for (let round = 0; round < 3; round++) {
          const fetched: string[] = [];
          const order = [...peers].sort(() =>
            createHash("sha256").update(`${cid}${epoch}${round}`).digest()[0]! & 1 ? 1 : -1,
          );
          for (const self of order) {
            const holders = contentHolders(cid, peers, epoch, R);
            if (holders.includes(self) && !has.has(self)) fetched.push(self);
            else if (
              !holders.includes(self) &&
              has.has(self) &&
              mayDrop({ cid, self, persistNodes: peers, epoch, replicas: R, has: (p) => has.has(p) })
            )
              has.delete(self);
            expect(has.size, `${cid} epoch ${epoch}`).to.be.at.least(R);
          }
          for (const self of fetched) has.add(self);
        }
        // After the handover the copies are exactly on the epoch's holders.
        expect([...has].sort()).to.deep.equal(contentHolders(cid, peers, epoch, R).sort());
      }
    }
  });

  it("maps a NameRegistry content id to a CID and back (a program's CID carries its programId)", () => {
    const pkg = Buffer.from("a program package");
    const programId = programIdOf(pkg);
    expect(programCid(programId).toString()).to.equal(rawCid(pkg).toString());
    expect(contentIdOfCid(programCid(programId))).to.deep.equal({ kind: 1, contentId: programId });
    const bundle = cidOfContentId(2, programId);
    expect(contentIdOfCid(bundle)).to.deep.equal({ kind: 2, contentId: programId });
    expect(() => cidOfContentId(0, programId)).to.throw(RangeError);
  });

  it("checks a block's bytes against its CID", () => {
    const bytes = Buffer.from("block");
    expect(blockMatchesCid(rawCid(bytes), bytes)).to.equal(true);
    expect(blockMatchesCid(rawCid(bytes), Buffer.from("blocc"))).to.equal(false);
  });
});
