import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { ethers as E } from "ethers";
import { stringToHex, type Hex } from "viem";
import { devAccount } from "../../deploy/context.ts";
import { QUEUE_PREFIX, queueNames, redisKeys } from "../../protocol/queues.ts";
import type { ResultJob } from "../../protocol/jobs.ts";
import { rankOperators } from "../../relayer/scheduler.ts";
import { repoRoot } from "../fixtures/programs.ts";
import { ETH_FEE } from "../helpers/suite.ts";
import {
  PAYEES,
  assertSettledOnceAndEscrowExact,
  createWorld,
  redisUrl,
  requestPayouts,
  waitSettled,
  type World,
  nextPayoutId,
} from "./harness.ts";

describe("off-chain network end to end (in-process chains, real Redis, real programs)", function () {
  this.timeout(180_000);

  describe("with all four operators", () => {
    let world: World;
    before(async () => {
      world = await createWorld();
      await world.start();
    });
    after(async () => world?.close());

    it("settles a single request: payees paid, fee kept, requester refunded nothing", async () => {
      const before = await world.a.suite.ethers.provider.getBalance(PAYEES[0]!);
      const ids = await requestPayouts(world, 1);
      await waitSettled(world, ids);
      const paid = (await world.a.suite.ethers.provider.getBalance(PAYEES[0]!)) - before;
      expect(paid).to.equal((10n ** 15n - ETH_FEE) / 2n);
      expect(await assertSettledOnceAndEscrowExact(world, ids)).to.deep.equal({ ingested: 1, refunded: 0 });
    });

    it("a program using the requester and the escrow: `program run` locally gives what the network pays", async () => {
      const { suite } = world.a;
      const requester = await suite.requester.getAddress();
      const value = 3n * 10n ** 15n;
      // no amount: escrow minus fee, split 1:2 between a payee and the requester
      const input = JSON.stringify({
        recipients: [
          { to: PAYEES[1], weight: 1 },
          { to: "requester", weight: 2 },
        ],
      });
      const local = spawnSync(
        process.execPath,
        [
          join(repoRoot, "cli", "bin.js"),
          "program",
          "run",
          "programs/payout-splitter",
          "--input",
          "-",
          "--requester",
          requester,
          "--value",
          String(value),
          "--fee",
          String(ETH_FEE),
          "--json",
        ],
        { cwd: repoRoot, input, encoding: "utf8" },
      );
      expect(local.status, local.stderr).to.equal(0);
      const planned = JSON.parse(local.stdout).instructions["31337"] as { target: string; amount: string }[];
      expect(planned.map((ix) => ix.target.toLowerCase())).to.deep.equal([
        PAYEES[1]!.toLowerCase(),
        requester.toLowerCase(),
      ]);

      const payeeBefore = await suite.ethers.provider.getBalance(PAYEES[1]!);
      const ids = await requestPayouts(world, 1, value, 600n, input);
      const requesterBefore = await suite.ethers.provider.getBalance(requester); // after paying the escrow
      await waitSettled(world, ids);
      expect((await suite.ethers.provider.getBalance(PAYEES[1]!)) - payeeBefore).to.equal(BigInt(planned[0]!.amount));
      expect((await suite.ethers.provider.getBalance(requester)) - requesterBefore).to.equal(
        BigInt(planned[1]!.amount),
      );
      expect(BigInt(planned[0]!.amount) + BigInt(planned[1]!.amount)).to.equal(value - ETH_FEE);
      expect(await assertSettledOnceAndEscrowExact(world, ids)).to.deep.equal({ ingested: 1, refunded: 0 });
    });

    it("settles 200 requests exactly once each", async () => {
      const ids = await requestPayouts(world, 200);
      await waitSettled(world, ids, 150_000);
      expect(await assertSettledOnceAndEscrowExact(world, ids)).to.deep.equal({ ingested: 200, refunded: 0 });
    });

    it("moves the omni token from chain A to chain B: burn, mint, supply conserved", async () => {
      const { a, b } = world;
      const amount = E.parseEther("40");
      const token = a.suite.omniToken;
      await (await token.connect(a.suite.owner).transfer(a.suite.requester, amount)).wait();
      await (await token.connect(a.suite.requester).approve(await a.suite.oracle.getAddress(), amount)).wait();
      const supply = async () => (await a.suite.omniToken.totalSupply()) + (await b.suite.omniToken.totalSupply());
      const before = await supply();
      const recipient = E.Wallet.createRandom().address;
      const input = JSON.stringify({
        token: await token.getAddress(),
        to: recipient,
        amount: amount.toString(),
        destinationChainId: 31338,
      });
      const requestId = (await a.suite.oracle.nextRequestId(
        await a.suite.requester.getAddress(),
        world.programs["token-mover"]!,
        stringToHex(input),
      )) as Hex;
      await (
        await a.suite.oracle
          .connect(a.suite.requester)
          .requestWithToken(world.programs["token-mover"]!, stringToHex(input), 600n, await token.getAddress(), amount)
      ).wait();
      await waitSettled(world, [requestId]);
      const deadline = Date.now() + 30_000;
      while ((await b.suite.omniToken.balanceOf(recipient)) === 0n && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(await b.suite.omniToken.balanceOf(recipient)).to.equal(amount);
      expect(await supply()).to.equal(before);
      expect(await b.suite.ingestor.isIngested(31337, requestId)).to.equal(true);
    });

    it("moves the omni token to the requester by default: the input names only the destination", async () => {
      const { a, b } = world;
      const amount = E.parseEther("7");
      const token = a.suite.omniToken;
      const requester = await a.suite.requester.getAddress();
      await (await token.connect(a.suite.owner).transfer(requester, amount)).wait();
      await (await token.connect(a.suite.requester).approve(await a.suite.oracle.getAddress(), amount)).wait();
      const fee = await a.suite.oracle.feeOf(await token.getAddress());
      const held = await b.suite.omniToken.balanceOf(requester);
      const input = stringToHex(JSON.stringify({ destinationChainId: 31338 }));
      const programId = world.programs["token-mover"]!;
      const requestId = (await a.suite.oracle.nextRequestId(requester, programId, input)) as Hex;
      await (
        await a.suite.oracle
          .connect(a.suite.requester)
          .requestWithToken(programId, input, 600n, await token.getAddress(), amount)
      ).wait();
      await waitSettled(world, [requestId]);
      const deadline = Date.now() + 30_000;
      while ((await b.suite.omniToken.balanceOf(requester)) === held && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect((await b.suite.omniToken.balanceOf(requester)) - held).to.equal(amount - fee);
    });

    it("refunds a failing program at once (PROGRAM_ERROR posted), minus the fee", async () => {
      const requester = await world.a.suite.requester.getAddress();
      const ids = await requestPayouts(world, 1, 10n ** 15n, 600n, "not json at all");
      const before = await world.a.suite.ethers.provider.getBalance(requester);
      await waitSettled(world, ids);
      expect((await world.a.suite.ethers.provider.getBalance(requester)) - before).to.equal(10n ** 15n - ETH_FEE);
      const [log] = await world.a.suite.ingestor.queryFilter(world.a.suite.ingestor.filters.ResultIngested(ids[0]));
      expect(log!.args.status).to.equal(1n);
      await assertSettledOnceAndEscrowExact(world, ids);
    });

    it("ignores duplicate events: a relayer re-scan from block 0 makes no second result", async () => {
      const ids = await requestPayouts(world, 3);
      await waitSettled(world, ids);
      await world.redis.del(redisKeys.cursor(31337));
      await world.services.relayer.pollOnce();
      await new Promise((r) => setTimeout(r, 1500));
      await assertSettledOnceAndEscrowExact(world, ids);
    });

    it("ignores an operator signing garbage; the honest three still reach the quorum", async () => {
      // A forged result claiming to come from operator 4 lands first for the next request.
      const requestId = await nextPayoutId(world);
      const results = new Queue<ResultJob>(queueNames.results, { connection: world.redis, prefix: QUEUE_PREFIX });
      const garbage: ResultJob = {
        operator: devAccount(4).address as Hex,
        originChainId: "31337",
        oracle: world.a.devnet.oracle,
        requestId,
        programId: world.programs["payout-splitter"]!,
        context: {
          requestId,
          originChainId: "31337",
          oracle: world.a.devnet.oracle,
          requester: devAccount(4).address as Hex,
          asset: E.ZeroAddress as Hex,
          amount: "1",
          fee: "0",
          blockNumber: "1",
          timestamp: "1",
          programId: world.programs["payout-splitter"]!,
        },
        input: "0x",
        outcome: { kind: "ok", status: 0, exitCode: 0, fuelUsed: "1", stdout: "0x", stderr: "0x", message: "" },
        chains: [
          {
            chainId: "31337",
            ingestor: world.a.devnet.ingestor,
            result: {
              requestId,
              originChainId: "31337",
              programId: world.programs["payout-splitter"]!,
              inputHash: E.ZeroHash as Hex,
              status: 0,
              instructionsHash: E.ZeroHash as Hex,
              bodyHash: E.ZeroHash as Hex,
            },
            instructions: [],
            signature: `0x${"11".repeat(65)}`,
          },
        ],
      };
      await results.add("garbage", garbage, { jobId: `garbage-${requestId}` });
      await results.close();
      const ids = await requestPayouts(world, 1);
      await waitSettled(world, ids);
      await assertSettledOnceAndEscrowExact(world, ids);
    });

    it("loses nothing when Redis is wiped: reconciliation finds the open requests", async () => {
      await world.services.close();
      const ids = await requestPayouts(world, 5);
      await world.redis.flushdb();
      // new services: the relayer starts from its configured start block... but the cursor is gone,
      // so both its scan and the reconciler may find them; either way each settles once.
      await world.start();
      await waitSettled(world, ids, 90_000);
      await assertSettledOnceAndEscrowExact(world, ids);
    });

    it("survives a relayer restart mid-stream", async () => {
      const first = await requestPayouts(world, 5);
      await world.services.relayer.close();
      const second = await requestPayouts(world, 5);
      await world.services.close();
      await world.start();
      await waitSettled(world, [...first, ...second], 90_000);
      await assertSettledOnceAndEscrowExact(world, [...first, ...second]);
    });
  });

  describe("with no operator running", () => {
    let world: World;
    before(async () => {
      world = await createWorld();
    });
    after(async () => world?.close());

    it("refunds after the deadline, and a late network does not settle it again", async () => {
      const requester = await world.a.suite.requester.getAddress();
      const ids = await requestPayouts(world, 1, 10n ** 15n, 60n);
      await world.a.connection.networkHelpers.time.increase(61);
      const before = await world.a.suite.ethers.provider.getBalance(requester);
      await (await world.a.suite.oracle.connect(world.a.suite.other).refund(ids[0]!)).wait();
      expect((await world.a.suite.ethers.provider.getBalance(requester)) - before).to.equal(10n ** 15n);
      await world.start();
      await new Promise((r) => setTimeout(r, 3000));
      expect(await assertSettledOnceAndEscrowExact(world, ids)).to.deep.equal({ ingested: 0, refunded: 1 });
    });
  });

  describe("when a worker process is SIGKILLed mid-job", () => {
    let world: World;
    before(async () => {
      world = await createWorld();
    });
    after(async () => world?.close());

    it("reassigns its work to another operator and the request settles once", async () => {
      const requestId = await nextPayoutId(world);
      const operators = [1, 2, 3, 4].map((i) => devAccount(i).address as Hex);
      const ranked = rankOperators(31337, requestId, operators);
      // quorum 3 of 4: the closest operator runs as its own process and is killed; the 4th must take over
      const victim = ranked[0]!;
      const victimIndex = [1, 2, 3, 4].find((i) => devAccount(i).address.toLowerCase() === victim.toLowerCase())!;
      const dir = mkdtempSync(join(tmpdir(), "versatus-e2e-worker-"));
      const configFile = join(dir, "worker.json");
      writeFileSync(
        configFile,
        JSON.stringify({
          chains: world.chains.map((c) => ({ chainId: c.devnet.chainId, ingestor: c.devnet.ingestor })),
          programs: { dirs: [world.storeDir] },
          redis: { url: redisUrl },
        }),
      );
      const child = spawn(process.execPath, [join(process.cwd(), "cli", "bin.js"), "worker", "--config", configFile], {
        env: { ...process.env, OPERATOR_KEY: devAccount(victimIndex).privateKey },
        stdio: "ignore",
      });
      // wait until the child reported itself to the scheduler
      const deadline = Date.now() + 30_000;
      while (!(await world.redis.hget(redisKeys.operators, victim.toLowerCase())) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await world.start({
        operators: [1, 2, 3, 4].filter((i) => i !== victimIndex),
        scheduler: { quorum: 3, reassignAfterMs: 1_500, sweepIntervalMs: 250 },
      });
      child.kill("SIGKILL");
      const ids = await requestPayouts(world, 1);
      expect(ids[0]).to.equal(requestId);
      await waitSettled(world, ids, 60_000);
      await assertSettledOnceAndEscrowExact(world, ids);
    });
  });
});
