import { expect } from "chai";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { keccak256, stringToHex, type Address, type Hex } from "viem";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import { GossipBridge } from "../../cli/node/gossip.ts";
import type { RequestJob } from "../../protocol/jobs.ts";
import { createMemoryHub } from "../../cli/node/network.ts";
import { flushedRedis } from "../worker/helpers.ts";
import { STANDALONE_REDIS_DB } from "./helpers.ts";

describe("GossipBridge: which requests' results a node listens to, judged by the chain's clock", () => {
  let redis: Redis;
  let now = Date.now();
  let chainNow = BigInt(Math.floor(now / 1000));
  let chainDown = false;
  const operator: Address = privateKeyToAccount(generatePrivateKey()).address;
  const requestId = keccak256(stringToHex("watched")) as Hex;
  const bridges: GossipBridge[] = [];

  before(async () => {
    redis = await flushedRedis(STANDALONE_REDIS_DB);
  });
  beforeEach(() => {
    now = Date.now();
    chainNow = BigInt(Math.floor(now / 1000));
    chainDown = false;
  });
  afterEach(async () => {
    for (const b of bridges.splice(0)) await b.close();
  });
  after(async () => {
    await redis.flushdb();
    await redis.quit();
  });

  const bridge = () => {
    const b = new GossipBridge({
      network: createMemoryHub().join(operator),
      account: undefined,
      redis,
      log: pino({ level: "silent" }),
      staleAfterMs: 10_000,
      activeSet: () => [operator],
      quorumSize: 1,
      collect: false,
      trackSigners: false,
      chainNow: async () => {
        if (chainDown) throw new Error("rpc down");
        return chainNow;
      },
      now: () => now,
    });
    bridges.push(b);
    return b;
  };

  it("keeps watching while this machine's clock, hours ahead of the chain's, is past the deadline", async () => {
    const b = bridge();
    const deadline = String(chainNow + 600n);
    b.watch("31337", requestId, deadline);
    now += 2 * 3_600_000;
    expect(await b.expireWatches()).to.equal(0);
    expect(b.watching()).to.equal(1);
  });

  it("stops once the chain's clock passes the deadline (plus grace)", async () => {
    const b = bridge();
    const deadline = chainNow + 600n;
    b.watch("31337", requestId, String(deadline));
    chainNow = deadline + 30n;
    expect(await b.expireWatches(), "within the grace period").to.equal(0);
    chainNow = deadline + 61n;
    expect(await b.expireWatches()).to.equal(1);
    expect(b.watching()).to.equal(0);
  });

  it("a chain that cannot be read keeps the watch", async () => {
    const b = bridge();
    b.watch("31337", requestId, String(chainNow - 3_600n));
    chainDown = true;
    expect(await b.expireWatches()).to.equal(0);
    chainDown = false;
    expect(await b.expireWatches()).to.equal(1);
  });

  it("an announced request (deadline unknown) is watched 15 minutes, unless its deadline becomes known", async () => {
    const b = bridge();
    const other = keccak256(stringToHex("only announced")) as Hex;
    b.watch("31337", requestId);
    b.watch("31337", other);
    b.watch("31337", other, String(chainNow + 7_200n));
    now += 15 * 60_000 + 1;
    expect(await b.expireWatches()).to.equal(1);
    expect(b.watching()).to.equal(1);
  });

  it("share offers of requests it does not watch are dropped after 15 minutes (51 offers: the watched one and the fresh one stay)", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    const b = new GossipBridge({
      network: createMemoryHub().join(account.address),
      account,
      redis,
      log: pino({ level: "silent" }),
      staleAfterMs: 10_000,
      activeSet: () => [account.address, operator],
      quorumSize: 1,
      collect: false,
      trackSigners: false,
      chainNow: async () => chainNow,
      now: () => now,
    });
    bridges.push(b);
    await b.publishReport({ depth: 9, capacity: 1, kinds: ["wasm"], programs: null, updatedAt: now });
    const offerFor = (i: number) => {
      const id = keccak256(stringToHex(`shared ${i}`)) as Hex;
      return b.offer({ chainId: "31337", requestId: id } as RequestJob, operator);
    };
    for (let i = 0; i < 50; i++) await offerFor(i);
    const watchedId = keccak256(stringToHex("shared 0")) as Hex;
    b.watch("31337", watchedId, String(chainNow + 7_200n));
    expect(b.sharesKept()).to.equal(50);
    now += 15 * 60_000 + 1;
    await b.publishReport({ depth: 9, capacity: 1, kinds: ["wasm"], programs: null, updatedAt: now });
    await offerFor(50);
    await b.expireWatches();
    // the watched request's offer stays (its scheduler may still need it), and the fresh one
    expect(b.sharesKept()).to.equal(2);
    expect(b.sharesFor("31337", watchedId)).to.have.length(1);
  });
});
