import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import type { Redis } from "ioredis";
import { pino } from "pino";
import { createPublicClient, http, type PublicClient } from "viem";
import { freePort } from "../../cli/devnet/redis.ts";
import { subscribeNewHeads } from "../../protocol/newHeads.ts";
import type { RequestJob } from "../../protocol/jobs.ts";
import { ChainFollower } from "../../relayer/follower.ts";
import { relayerChainSchema } from "../../relayer/config.ts";
import { hardhatCommand, hardhatEnv, rpcChainId } from "../../scripts/localChains.ts";
import { deployTestSuite, requestEth, type Suite } from "../helpers/suite.ts";
import { eventually, flushedRedis } from "../worker/helpers.ts";

const DB = 13;

/**
 * The relay follower on a real `hardhat node` (HTTP and WebSocket on one port): pushed new heads
 * wake it long before its poll interval; without a WebSocket it follows by polling.
 */
describe("relayer/follower new-head push", function () {
  this.timeout(120_000);
  let node: ChildProcess;
  let url: string;
  let suite: Suite;
  let client: PublicClient;
  let redis: Redis;
  const followers: ChainFollower[] = [];

  before(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const [command, args] = hardhatCommand(process.cwd(), ["node", "--port", String(port), "--chain-id", "31337"]);
    const logFile = join(mkdtempSync(join(tmpdir(), "versatus-follower-")), "node.log");
    const log = openSync(logFile, "a");
    node = spawn(command, args, { env: hardhatEnv(), detached: true, stdio: ["ignore", log, log] });
    const until = Date.now() + 60_000;
    // its own log saying it listens, not just a chain answering on the port: with other work on
    // the machine the free port can be taken by someone else's chain in between
    const listening = new RegExp(`JSON-RPC server at http://[^\\s]+:${port}/`);
    while (!listening.test(readFileSync(logFile, "utf8")) || (await rpcChainId(url)) !== 31337) {
      if (node.exitCode !== null || Date.now() > until)
        throw new Error(`hardhat node on ${port} did not start: ${readFileSync(logFile, "utf8").slice(-500)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const connection = await network.connect({ network: "localhost", override: { url } });
    suite = await deployTestSuite(connection);
    client = createPublicClient({ transport: http(url) }) as PublicClient;
    redis = await flushedRedis(DB);
  });

  after(async () => {
    for (const f of followers.splice(0)) await f.stop();
    await redis?.flushdb();
    await redis?.quit();
    if (node?.pid) process.kill(-node.pid, "SIGTERM");
  });

  let polls = 0;
  async function follow(chain: Record<string, unknown>): Promise<{ follower: ChainFollower; seen: RequestJob[] }> {
    // one follower at a time: they share the chain's cursor key
    for (const f of followers.splice(0)) await f.stop();
    await redis.flushdb();
    const seen: RequestJob[] = [];
    const follower = new ChainFollower({
      chain: relayerChainSchema.parse({
        chainId: 31337,
        rpcUrl: url,
        oracle: suite.addresses.ExecutableOracle,
        ingestor: suite.addresses.InstructionIngestor,
        startBlock: Number(await client.getBlockNumber()) + 1,
        ...chain,
      }),
      // every poll starts with the head's number: counting those counts the polls
      client: {
        ...client,
        getBlockNumber: (args?: Parameters<PublicClient["getBlockNumber"]>[0]) => {
          polls++;
          return client.getBlockNumber(args);
        },
      } as PublicClient,
      redis,
      log: pino({ level: "silent" }),
      onRequests: async (requests) => void seen.push(...requests),
    });
    followers.push(follower);
    follower.start();
    return { follower, seen };
  }

  it("sees a request as soon as its block is pushed, with a poll interval far longer than the wait", async () => {
    const { follower, seen } = await follow({ pollIntervalMs: 600_000, subscribe: "websocket" });
    expect(await follower.followMode()).to.equal("websocket");
    const requestId = await requestEth(suite, suite.requester, 10n ** 15n);
    const job = await eventually(async () => seen.find((r) => r.requestId === requestId.toLowerCase()), "the request");
    expect(job.chainId).to.equal("31337");
  });

  it("polls only as a safety net while heads are pushed (pushedPollIntervalMs), at pollIntervalMs without", async () => {
    const pushed = await follow({ pollIntervalMs: 100, pushedPollIntervalMs: 2_000, subscribe: "websocket" });
    expect(await pushed.follower.followMode()).to.equal("websocket");
    await new Promise((r) => setTimeout(r, 300)); // the first polls, before the subscription was up
    polls = 0;
    await new Promise((r) => setTimeout(r, 2_500));
    const whilePushed = polls;
    await follow({ pollIntervalMs: 100, subscribe: "polling" });
    polls = 0;
    await new Promise((r) => setTimeout(r, 2_500));
    // no block is mined meanwhile: 1-2 safety-net polls pushed, ~25 polling (bounds loose for a loaded machine)
    expect(whilePushed, "polls in 2.5 s with push").to.be.at.most(3);
    expect(polls, "polls in 2.5 s without push").to.be.at.least(6);
  });

  it("falls back to polling when the RPC has no WebSocket, and still sees the request", async () => {
    const closed = `ws://127.0.0.1:${await freePort()}`;
    const { follower, seen } = await follow({ pollIntervalMs: 100, subscribe: "auto", wsUrl: closed });
    expect(await follower.followMode()).to.equal("polling");
    const requestId = await requestEth(suite, suite.other, 10n ** 15n);
    await eventually(async () => seen.find((r) => r.requestId === requestId.toLowerCase()), "the request");
  });

  it('refuses to start a "websocket" subscription where there is none, naming the chain and URL', async () => {
    const closed = `ws://127.0.0.1:${await freePort()}`;
    const error = await subscribeNewHeads({
      chainId: 31337,
      subscribe: "websocket",
      url: closed,
      onHead: () => {},
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).to.equal(`chain 31337: no WebSocket at ${closed} (subscribe is "websocket")`);
  });

  it("rejects an unknown subscribe mode in the chain config", () => {
    const parsed = relayerChainSchema.safeParse({
      chainId: 31337,
      rpcUrl: url,
      oracle: suite.addresses.ExecutableOracle,
      ingestor: suite.addresses.InstructionIngestor,
      subscribe: "sometimes",
    });
    expect(parsed.success).to.equal(false);
    expect(JSON.stringify(parsed.error?.issues[0]?.path)).to.equal('["subscribe"]');
  });
});
