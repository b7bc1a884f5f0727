import { expect } from "chai";
import { InvalidInputError } from "../../protocol/errors.ts";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { Command } from "commander";
import { ethers as E } from "ethers";
import {
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  parseEther,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { devAccount } from "../../deploy/context.ts";
import { stakingRegistryAbi } from "../../protocol/generated/abis.ts";
import {
  decodeStakingError,
  deregisterWatcher,
  listClaims,
  NotEnoughStakeError,
  NothingToWithdrawError,
  readStakeStatus,
  registerOperator,
  registerWatcher,
  RegistrationError,
  stake,
  StillBondedError,
  ThresholdError,
  unstake,
  withdrawOwed,
  evictOperator,
  challengeResult,
  StakingRevertError,
  WindowClosedError,
  withdrawStake,
  type StakingAddresses,
  type StakingClients,
} from "../../protocol/staking.ts";
import { registerOperatorCommands } from "../../cli/operator.ts";
import { registerWatcherCommands } from "../../cli/watcher.ts";
import { deployTestSuite, makeResult, operatorWallets, requestEth, signResult, type Suite } from "../helpers/suite.ts";

/** Awaits `promise`, expecting it to fail with an instance of `type` whose message matches `pattern`. */
async function rejects(
  promise: Promise<unknown>,
  type: new (...args: never[]) => Error,
  pattern: RegExp,
): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "expected a rejection").to.be.instanceOf(type);
  expect((error as Error).message).to.match(pattern);
}

/** Short periods so that unbonding can be waited out: unlock after 40 s, stake counts if slashable 20 s ahead. */
const STAKING_OVERRIDES = {
  ...(
    JSON.parse(readFileSync(new URL("../../config/deploy/localhost.json", import.meta.url), "utf8")) as {
      staking: Record<string, unknown>;
    }
  ).staking,
  unbondingPeriod: 40,
  slashableWindow: 20,
  dispute: {
    ...(
      JSON.parse(readFileSync(new URL("../../config/deploy/localhost.json", import.meta.url), "utf8")) as {
        staking: { dispute: Record<string, unknown> };
      }
    ).staking.dispute,
    challengeWindow: 8,
    commitPeriod: 4,
    revealPeriod: 4,
    maxExtensions: 0,
  },
};

describe("staking: operators and watchers (protocol/staking.ts and the CLI)", function () {
  this.timeout(120_000);
  let connection: NetworkConnection;
  let suite: Suite;
  let addresses: StakingAddresses;
  let publicClient: PublicClient;
  const chain = defineChain({
    id: 31337,
    name: "chainA",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: ["http://in-process.invalid"] } },
  });
  const clientsFor = (index: number): StakingClients => ({
    publicClient,
    walletClient: createWalletClient({
      chain,
      transport: custom(connection.provider as Parameters<typeof custom>[0]),
      account: privateKeyToAccount(devAccount(index).privateKey as Hex),
    }),
    addresses,
  });
  /** Moves chain time forward by `seconds` and mines a block there. */
  const advance = async (seconds: number) => {
    await connection.provider.request({ method: "evm_increaseTime", params: [seconds] });
    await connection.provider.request({ method: "evm_mine", params: [] });
  };

  before(async () => {
    connection = await network.create("chainA");
    suite = await deployTestSuite(connection, { staking: STAKING_OVERRIDES });
    addresses = {
      adapter: suite.addresses.NativeStakeAdapter as Address,
      registry: suite.addresses.StakingRegistry as Address,
      disputes: suite.addresses.DisputeManager as Address,
    };
    publicClient = createPublicClient({
      chain,
      // no retries: viem retries the in-process chain's revert errors with a backoff
      transport: custom(connection.provider as Parameters<typeof custom>[0], { retryCount: 0 }),
      pollingInterval: 50,
    }) as PublicClient;
  });

  it("refuses to register without enough stake, saying what is required and slashable", async () => {
    const c = clientsFor(10);
    const error = await registerOperator(c).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(NotEnoughStakeError);
    expect((error as Error).message).to.match(/Not enough stake to register as an operator: 1 required, 0 slashable/);
    expect((error as Error).message).to.contain("versatus operator stake 1");
    // the contract's own revert decodes to the same kind of message
    const reverted = await publicClient
      .simulateContract({
        address: addresses.registry,
        abi: stakingRegistryAbi,
        functionName: "register",
        account: devAccount(10).address as Address,
      })
      .catch((e: unknown) => decodeStakingError(e));
    expect((reverted as Error).message).to.equal(
      "Reverted: not enough stake to register: 1 required, 0 slashable\n\nDetails: Staking_InsufficientStakeForRegistration",
    );
  });

  it("stake -> register -> status shows active; a 6th operator would break the threshold's majority", async () => {
    const c = clientsFor(10);
    await stake(c, parseEther("1"));
    const reg = await registerOperator(c);
    expect(reg.index).to.equal(4);
    const status = await readStakeStatus(c, devAccount(10).address as Address);
    expect(status).to.include({
      registered: true,
      active: true,
      index: 4,
      bonded: parseEther("1"),
      slashable: parseEther("1"),
    });
    expect(status.requiredStake).to.equal(parseEther("1"));
    expect(status.registeredCount).to.equal(5n);
    await rejects(registerOperator(c), RegistrationError, /already a registered operator/);

    const sixth = clientsFor(11);
    await stake(sixth, parseEther("1"));
    await rejects(
      registerOperator(sixth),
      ThresholdError,
      /6 registered operators: threshold 3 would no longer be a strict majority/,
    );
  });

  it("unstake -> unbonding, inactive once it stops counting; withdraw only from the unlock block", async () => {
    const c = clientsFor(10);
    const me = devAccount(10).address as Address;
    await rejects(withdrawStake(c), NothingToWithdrawError, /no stake is unbonding/);
    await rejects(unstake(c, parseEther("2")), NotEnoughStakeError, /unbond 2 ETH/);
    const { unlockTime, blockNumber } = await unstake(c, parseEther("1"));
    const unstakedAt = (await publicClient.getBlock({ blockNumber })).timestamp;
    expect(unlockTime).to.equal(unstakedAt + 40n);
    let status = await readStakeStatus(c, me);
    expect(status).to.include({ bonded: 0n, unbonding: parseEther("1"), unlockTime, withdrawable: false });
    // still slashable for the next 20 s of the 40, so it still counts; then it does not
    expect(status.active).to.equal(true);
    await advance(21);
    status = await readStakeStatus(c, me);
    expect(status).to.include({ active: false, registered: true, slashable: 0n });

    const error = await withdrawStake(c).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StillBondedError);
    expect((error as Error).message).to.match(new RegExp(`still bonded until .*unix ${unlockTime}`));

    await advance(Number(unlockTime - status.now));
    expect((await readStakeStatus(c, me)).withdrawable).to.equal(true);
    const before = await publicClient.getBalance({ address: me });
    const done = await withdrawStake(c);
    expect(done.amount).to.equal(parseEther("1"));
    expect(await publicClient.getBalance({ address: me })).to.be.greaterThan(before + parseEther("0.99"));
    status = await readStakeStatus(c, me);
    expect(status).to.include({ bonded: 0n, unbonding: 0n, unlockTime: 0n });

    // registered without stake: anyone may evict it; an active operator cannot be evicted
    const someone = clientsFor(11);
    await rejects(evictOperator(someone, devAccount(1).address as Address), RegistrationError, /is active/);
    await evictOperator(someone, me);
    expect((await readStakeStatus(c, me)).registered).to.equal(false);
    await rejects(evictOperator(someone, me), RegistrationError, /not a registered operator/);
  });

  it("watcher: stake, register, status, refuse as operator, unstake, deregister", async () => {
    const c = clientsFor(12);
    const me = devAccount(12).address as Address;
    await stake(c, parseEther("0.25"));
    await rejects(registerWatcher(c), NotEnoughStakeError, /register as a watcher: 0.5 required, 0.25 slashable/);
    await stake(c, parseEther("0.75"));
    await registerWatcher(c);
    let status = await readStakeStatus(c, me);
    expect(status).to.include({ watcher: true, watcherWeight: parseEther("1"), watcherMinStake: parseEther("0.5") });
    await rejects(registerOperator(c), RegistrationError, /a watcher cannot also be an operator/);
    await rejects(registerWatcher(clientsFor(1)), RegistrationError, /an operator cannot also be a watcher/);
    await unstake(c, parseEther("1"));
    await advance(21);
    status = await readStakeStatus(c, me);
    expect(status).to.include({ watcher: true, watcherWeight: 0n, unbonding: parseEther("1") });
    await deregisterWatcher(c);
    expect((await readStakeStatus(c, me)).watcher).to.equal(false);
    await rejects(deregisterWatcher(c), RegistrationError, /not a registered watcher/);
  });

  it("claims: lists a dispute for its challenger and its voter, with outcome, and withdraws what is owed", async () => {
    const { ethers, oracle, ingestor, poster, requester, owner } = suite;
    const disputes = await ethers.getContractAt("DisputeManager", addresses.disputes);
    const requestId = await requestEth(suite, requester, E.parseEther("0.01"));
    const result = makeResult({ requestId, originChainId: suite.chainId, programId: suite.programId, input: "0x1234" });
    const sigs = await signResult(operatorWallets().slice(0, 3), suite.chainId, await ingestor.getAddress(), result);
    await (await ingestor.connect(poster).ingest(result, [], sigs, "0x")).wait();
    void oracle;

    const challenger = devAccount(13).connect(ethers.provider);
    // the accused are every recorded signer; the challenge is committed a block before it is revealed
    const accused = operatorWallets()
      .slice(0, 3)
      .map((w) => w.address)
      .sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
    const claimed = E.id("the right body");
    const challengeSalt = E.id("claims-challenge");
    const challengeCommitment = await disputes.challengeCommitment(
      challenger.address,
      suite.chainId,
      requestId,
      0,
      claimed,
      challengeSalt,
    );
    await (await disputes.connect(challenger).commitChallenge(challengeCommitment)).wait();
    await (
      await disputes
        .connect(challenger)
        .challenge(result, accused, 0, claimed, challengeSalt, { value: E.parseEther("0.1") })
    ).wait();
    const disputeId = await disputes.disputeCount();
    const voter = devAccount(9).connect(ethers.provider); // the configured watcher
    const salt = E.id("salt");
    const commitment = await disputes.voteCommitment(disputeId, voter.address, false, salt);
    await (await disputes.connect(voter).commitVote(disputeId, commitment)).wait();

    let claims = await listClaims(clientsFor(13), challenger.address as Address);
    expect(claims.claims).to.have.length(1);
    expect(claims.claims[0]).to.include({ disputeId, kind: "WrongResult", state: "Open", bond: parseEther("0.1") });
    expect(claims.claims[0]!.roles).to.deep.equal(["challenger"]);

    await advance(4);
    await (await disputes.connect(voter).revealVote(disputeId, false, salt)).wait();
    await advance(4);
    await (await disputes.resolve(disputeId)).wait();

    const voterClaims = await listClaims(clientsFor(9), voter.address as Address);
    expect(voterClaims.claims).to.have.length(1);
    expect(voterClaims.claims[0]).to.include({ state: "Rejected", vote: false, voteWeight: parseEther("1") });
    expect(voterClaims.claims[0]!.roles).to.deep.equal(["voter"]);
    claims = await listClaims(clientsFor(13), challenger.address as Address);
    expect(claims.claims[0]!.state).to.equal("Rejected");
    expect(claims.owed).to.equal(0n);
    await rejects(withdrawOwed(clientsFor(13)), NothingToWithdrawError, /owes .* anything/);

    // the treasury (the owner) got the unburned half of the bond
    const treasury = clientsFor(0);
    const owed = await listClaims(treasury, (await owner.getAddress()) as Address);
    expect(owed.owed).to.equal(parseEther("0.05"));
    expect((await withdrawOwed(treasury)).amount).to.equal(parseEther("0.05"));
  });

  it("challenge: opens a dispute from the ingest transaction; refuses its own bodyHash and a closed window", async () => {
    const { ingestor, poster, requester } = suite;
    const requestId = (await requestEth(suite, requester, E.parseEther("0.01"))) as Hex;
    const result = makeResult({ requestId, originChainId: suite.chainId, programId: suite.programId, input: "0x1234" });
    const sigs = await signResult(operatorWallets().slice(0, 3), suite.chainId, await ingestor.getAddress(), result);
    await (await ingestor.connect(poster).ingest(result, [], sigs, "0x")).wait();
    const c = clientsFor(16);
    const target = { originChainId: suite.chainId, requestId };

    await rejects(
      challengeResult(c, target, { kind: "WrongResult", correctBodyHash: result.bodyHash as Hex }),
      InvalidInputError,
      /a bodyHash other than the ingested one/,
    );
    const opened = await challengeResult(c, target, { kind: "WrongResult", correctBodyHash: E.id("right") as Hex });
    const disputes = await suite.ethers.getContractAt("DisputeManager", addresses.disputes);
    const dispute = await disputes.disputeOf(opened.disputeId);
    expect(dispute.challenger).to.equal(devAccount(16).address);
    expect(dispute.resultBodyHash).to.equal(result.bodyHash);
    expect([...(await disputes.signersOf(opened.disputeId))]).to.have.length(3);
    await rejects(
      challengeResult(c, target, { kind: "WrongResult", correctBodyHash: E.id("right") as Hex }),
      StakingRevertError,
      /AlreadyChallenged/,
    );

    await advance(9);
    await rejects(challengeResult(c, target, { kind: "DataUnavailable" }), WindowClosedError, /window .* closed at/);
    await rejects(
      challengeResult(c, { ...target, requestId: E.id("never requested") as Hex }, { kind: "DataUnavailable" }),
      WindowClosedError,
      /No result was ingested/,
    );
  });

  describe("the CLI (over an HTTP bridge to the in-process chain)", () => {
    let server: Server;
    let rpc: string;
    const run = async (...args: string[]) => {
      const program = new Command("versatus").exitOverride();
      registerOperatorCommands(program);
      registerWatcherCommands(program);
      const out: string[] = [];
      const err: string[] = [];
      const log = console.log;
      const error = console.error;
      console.log = (...a: unknown[]) => void out.push(a.join(" "));
      console.error = (...a: unknown[]) => void err.push(a.join(" "));
      const exitCode = process.exitCode;
      try {
        await program.parseAsync([
          "node",
          "versatus",
          ...args,
          "--rpc",
          rpc,
          "--registry",
          addresses.registry,
          "--adapter",
          addresses.adapter,
          "--disputes",
          addresses.disputes,
        ]);
      } finally {
        console.log = log;
        console.error = error;
      }
      const failed = process.exitCode === 1;
      process.exitCode = exitCode;
      return { out: out.join("\n"), err: err.join("\n"), failed };
    };

    before(async () => {
      server = createServer((req, res) => {
        let body = "";
        req.on("data", (chunk: Buffer) => (body += chunk.toString()));
        req.on("end", () => {
          const call = JSON.parse(body) as { id: number; method: string; params?: unknown[] };
          connection.provider
            .request({ method: call.method, params: call.params ?? [] })
            .then(
              (result) => ({ jsonrpc: "2.0", id: call.id, result }),
              (e: { code?: number; message?: string; data?: unknown }) => ({
                jsonrpc: "2.0",
                id: call.id,
                error: { code: e.code ?? -32000, message: e.message ?? String(e), data: e.data },
              }),
            )
            .then((reply) => {
              res.setHeader("content-type", "application/json");
              res.end(JSON.stringify(reply));
            });
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      rpc = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => server?.close());

    it("operator stake --register, status (table and --json), unstake, unstake --withdraw too early", async () => {
      const register = await run("operator", "register", "--dev-account", "14");
      expect(register.failed).to.equal(true);
      expect(register.err).to.match(/Not enough stake to register as an operator: 1 required, 0 slashable/);
      expect(register.err).to.contain("Hint: stake at least 1 more");

      // the threshold allows a 5th registered operator only: dev:10's seat was freed (evicted above)
      const deregister = await run("operator", "deregister", "--dev-account", "10");
      expect(deregister.err).to.match(/is not a registered operator/);
      const staked = await run("operator", "stake", "1.5", "--register", "--dev-account", "14");
      expect(staked.err).to.equal("");
      expect(staked.out).to.match(/staked 1.5 in 0x[0-9a-f]{64}\nregistered as operator 5 in 0x/);

      const table = await run("operator", "status", devAccount(14).address);
      expect(table.out).to.match(/bonded\s+1.5 ETH/);
      expect(table.out).to.match(/registered\s+yes \(index 5\)/);
      expect(table.out).to.match(/active\s+yes/);
      const json = JSON.parse((await run("operator", "status", "--dev-account", "14", "--json")).out) as Record<
        string,
        unknown
      >;
      expect(json).to.include({
        active: true,
        registered: true,
        bonded: "1500000000000000000",
        requiredStake: "1000000000000000000",
      });

      const unstaked = await run("operator", "unstake", "0.5", "--dev-account", "14");
      const unlock = /until (\S+Z) in 0x/.exec(unstaked.out)![1]!;
      const early = await run("operator", "unstake", "--withdraw", "--dev-account", "14");
      expect(early.failed).to.equal(true);
      expect(early.err).to.contain(`Stake is still bonded until ${unlock} (unix `);
      const both = await run("operator", "unstake", "1", "--withdraw", "--dev-account", "14");
      expect(both.err).to.match(/either <amount>/);
    });

    it("watcher stake/status/claims", async () => {
      const staked = await run("watcher", "stake", "1", "--dev-account", "15");
      expect(staked.out).to.match(/registered as a watcher/);
      const status = await run("watcher", "status", "--dev-account", "15");
      expect(status.out).to.match(/watcher\s+yes/);
      expect(status.out).to.match(/voting weight\s+1 ETH/);
      const none = await run("watcher", "claims", "--dev-account", "15");
      expect(none.out).to.match(/no disputes for 0x/);
      const claims = await run("watcher", "claims", devAccount(9).address);
      expect(claims.out).to.match(
        /#1 WrongResult request 0x[0-9a-f]{64} \(chain 31337\) as voter voted reject \(1\); bond 0.1 ETH; rejected/,
      );
      const onlyStake = await run("watcher", "stake", "1", "--no-register", "--dev-account", "16");
      expect(onlyStake.out).to.not.match(/registered/);
      expect(JSON.parse((await run("watcher", "status", devAccount(16).address, "--json")).out)).to.include({
        watcher: false,
      });
    });

    it("watcher challenge: one claim required, a closed window explained", async () => {
      const id = E.id("some request");
      const both = await run("watcher", "challenge", id, "--body-hash", id, "--unavailable", "--dev-account", "16");
      expect(both.err).to.match(/exactly one of --body-hash <0x..> or --unavailable/);
      const bad = await run("watcher", "challenge", "0x12", "--unavailable", "--dev-account", "16");
      expect(bad.err).to.match(/requestId/);
      const none = await run("watcher", "challenge", id, "--unavailable", "--dev-account", "16");
      expect(none.failed).to.equal(true);
      expect(none.err).to.match(/No result was ingested for request/);
    });
  });
});
