import { expect } from "chai";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { startCollector, type CollectorHandle } from "../../ingestor/collector.ts";
import { EVIDENCE_STREAM, evidenceFromJson } from "../../protocol/evidence.ts";
import { requestEth } from "../helpers/suite.ts";
import {
  makeResultJob,
  operatorKeys,
  resultsQueue,
  silentLogger,
  tempDir,
  testConfig,
  transportsOf,
} from "../ingestor/helpers.ts";
import { createWatcherWorld, type WatcherWorld } from "./helpers.ts";

describe("watcher: equivocation seen by the collector", function () {
  this.timeout(120_000);
  let world: WatcherWorld;
  let collector: CollectorHandle | undefined;
  const da = tempDir("versatus-evidence-da-");

  before(async () => {
    world = await createWatcherWorld();
  });
  after(async () => {
    await collector?.close();
    await world?.close();
    da.remove();
  });

  it("the collector streams both conflicting signatures and the watcher slashes the operator once", async () => {
    const { chain } = world;
    const redisUrl = world.config.redis.url!;
    collector = await startCollector({
      config: testConfig([chain], { redisUrl, daDir: da.dir }),
      logger: silentLogger,
      transports: transportsOf([chain]),
    });
    const input: Hex = "0xabcd";
    const requestId = ((await requestEth(chain, chain.requester, 10n ** 16n, input)) as string).toLowerCase() as Hex;
    const key = operatorKeys[0]!;
    const signer = privateKeyToAccount(key).address;
    const first = await makeResultJob(key, { origin: chain, requestId, input }, { stdout: "0x01" });
    const second = await makeResultJob(key, { origin: chain, requestId, input }, { stdout: "0x02" });
    const queue = resultsQueue(redisUrl);
    await queue.add("result", first, { jobId: "conflict-a" });
    await queue.add("result", second, { jobId: "conflict-b" });
    await queue.add("result", second, { jobId: "conflict-c" }); // a repeat adds nothing
    await queue.close();

    const watcher = await world.start();
    await world.tickUntil(
      watcher,
      async () => world.registry.equivocationSlashed(signer, chain.chainId, requestId),
      "equivocation slashed",
    );
    const entries = (await world.redis.xrange(EVIDENCE_STREAM, "-", "+")).map(([, fields]) =>
      evidenceFromJson(fields[1]!),
    );
    expect(entries).to.have.length(2);
    expect(new Set(entries.map((e) => e!.result.bodyHash)).size).to.equal(2);
    expect(entries.every((e) => e!.signer === signer)).to.equal(true);
    await watcher.tickOnce();
    const events = await world.registry.queryFilter(world.registry.filters.EquivocationSlashed(signer));
    expect(events).to.have.length(1);
    await watcher.close();
  });
});
