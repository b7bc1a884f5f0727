/**
 * Gas benchmark: receipt gasUsed of the hot paths, on the in-process chain, with the suite deployed
 * exactly as `npx hardhat deploy` does. Prints a table and writes bench/results/gas.json.
 * Run: npm run bench:gas
 */
import { mkdirSync, writeFileSync } from "node:fs";
import hre from "hardhat";
import { ethers as E } from "ethers";
import { Op, type Instruction } from "../protocol/instructions.ts";
import { deployTestSuite, makeResult, operatorWallets, signResult, type Suite } from "../test/helpers/suite.ts";

const TARGETS: Record<string, number> = {
  request_eth: 60_000,
  ingest_single: 85_000,
  ingest_batch20_per_result: 45_000,
  ingest_mint: 80_000,
  prove_equivocation: 120_000,
};

// No top-level await (issue 13, nodejs/node#53238): the script runs in main().
async function main(): Promise<void> {
  const connection = await hre.network.create();
  const suite = await deployTestSuite(connection);
  const { ethers, oracle, ingestor, poster, requester, other, chainId, programId } = suite;
  const ingestorAddress = await ingestor.getAddress();
  const signers = operatorWallets().slice(0, 3); // 3 of 4
  const input = E.hexlify(E.toUtf8Bytes('{"splits":[1,2,3]}')); // a small, realistic input
  const gas: Record<string, number> = {};

  /** Sends an ETH request and returns its id, read from its ExecutionRequested event (the id binds the
   * program and input, so it is not predictable from the requester alone). */
  async function requestEth(s: Suite, from: E.Signer, value: bigint, data = "0x1234", ttl = 3600n) {
    const receipt = (await (await s.oracle.connect(from).request(s.programId, data, ttl, { value })).wait())!;
    for (const log of receipt.logs) {
      const parsed = s.oracle.interface.parseLog(log);
      if (parsed?.name === "ExecutionRequested") return parsed.args.requestId as string;
    }
    throw new Error("no ExecutionRequested event");
  }
  const gasOf = async (p: Promise<{ wait: () => Promise<{ gasUsed: bigint } | null> }>) =>
    Number((await (await p).wait())!.gasUsed);

  // Requesters are first seen once (their account id costs two extra slots, once): measure the steady state.
  await requestEth(suite, requester, E.parseEther("0.01"), input);
  gas.request_eth_first_time = await gasOf(
    oracle.connect(other).request(programId, input, 3600n, { value: E.parseEther("0.01") }),
  );
  gas.request_eth = await gasOf(
    oracle.connect(requester).request(programId, input, 3600n, { value: E.parseEther("0.01") }),
  );

  // ERC-20 escrow: a token made by the factory, accepted with a fee.
  const erc20Init = E.AbiCoder.defaultAbiCoder().encode(
    ["string", "string", "address", "uint256"],
    ["Bench", "BNCH", await requester.getAddress(), E.parseEther("1000000")],
  );
  const tokenAddress = await suite.factory.predict(E.id("ERC20"), E.id("bench"), erc20Init);
  await (await suite.factory.create(E.id("ERC20"), E.id("bench"), erc20Init)).wait();
  const token = await ethers.getContractAt("StandardERC20", tokenAddress);
  // Acceptance probes the token with the owner's own funds (a round trip that must be exact).
  await (await token.connect(requester).transfer(await suite.owner.getAddress(), E.parseEther("1"))).wait();
  await (await token.connect(suite.owner).approve(await oracle.getAddress(), E.parseEther("1"))).wait();
  await (await oracle.connect(suite.owner).acceptToken(tokenAddress, E.parseEther("0.001"), E.parseEther("1"))).wait();
  await (await token.connect(requester).approve(await oracle.getAddress(), E.MaxUint256)).wait();
  await (
    await oracle.connect(requester).requestWithToken(programId, input, 3600n, tokenAddress, E.parseEther("1"))
  ).wait();
  gas.request_token = await gasOf(
    oracle.connect(requester).requestWithToken(programId, input, 3600n, tokenAddress, E.parseEther("1")),
  );

  async function signedTransfer(amount: bigint) {
    const requestId = await requestEth(suite, requester, E.parseEther("0.01"), input);
    const instructions: Instruction[] = [
      { op: Op.TRANSFER, target: (await other.getAddress()) as `0x${string}`, amount, data: "0x" },
    ];
    const result = makeResult({
      requestId,
      originChainId: chainId,
      programId,
      input,
      instructions,
      bodyHash: E.id(requestId),
    });
    return { result, instructions, sigs: await signResult(signers, chainId, ingestorAddress, result) };
  }
  const daPointer = "0x00" + "ab".repeat(32); // local DA kind + sha256

  // Warm the fee ledger slot once (first result of a (set, asset, share) ledger writes a new slot).
  {
    const s = await signedTransfer(E.parseEther("0.005"));
    await (await ingestor.connect(poster).ingest(s.result, s.instructions, s.sigs, daPointer)).wait();
  }
  {
    const s = await signedTransfer(E.parseEther("0.0099"));
    gas.ingest_single = await gasOf(ingestor.connect(poster).ingest(s.result, s.instructions, s.sigs, daPointer));
  }
  {
    const batch = [];
    for (let i = 0; i < 20; i++) batch.push(await signedTransfer(E.parseEther("0.0099")));
    const used = await gasOf(
      ingestor.connect(poster).ingestBatch(
        batch.map((b) => b.result),
        batch.map((b) => b.instructions),
        batch.map((b) => b.sigs),
        batch.map(() => daPointer),
      ),
    );
    gas.ingest_batch20_total = used;
    gas.ingest_batch20_per_result = Math.round(used / 20);
  }
  {
    // Cross-chain MINT: a result from chain 31338 minting the omni token here, to an existing holder.
    const omni = await suite.omniToken.getAddress();
    const mint = async (n: number) => {
      const instructions: Instruction[] = [
        {
          op: Op.MINT,
          target: (await other.getAddress()) as `0x${string}`,
          amount: E.parseEther("5"),
          data: E.AbiCoder.defaultAbiCoder().encode(["address"], [omni]) as `0x${string}`,
        },
      ];
      const result = makeResult({
        requestId: E.id(`remote-${n}`),
        originChainId: 31338n,
        programId,
        input,
        instructions,
      });
      return gasOf(
        ingestor
          .connect(poster)
          .ingest(result, instructions, await signResult(signers, chainId, ingestorAddress, result), daPointer),
      );
    };
    await mint(0);
    gas.ingest_mint = await mint(1);
  }
  {
    const requestId = await requestEth(suite, requester, E.parseEther("0.01"), input, 60n);
    await connection.networkHelpers.time.increase(61);
    gas.refund = await gasOf(oracle.connect(other).refund(requestId));
  }

  {
    // HoneSTake (the deployed staking: the ingestor reads the StakingRegistry): one equivocation
    // proof with recipients that already hold ETH, then a dispute's whole life on a signed result.
    const registry = await ethers.getContractAt("StakingRegistry", suite.addresses.StakingRegistry!);
    const disputes = await ethers.getContractAt("DisputeManager", suite.addresses.DisputeManager!);
    const equivocation = async (n: number) => {
      const a = makeResult({ requestId: E.id(`equivocation-${n}`), originChainId: chainId, programId, input });
      const b = { ...a, bodyHash: E.id(`other-${n}`) as `0x${string}` };
      const fourth = operatorWallets()[3]!; // not among the bench's signers, so ingestion goes on
      const [sigA] = await signResult([fourth], chainId, ingestorAddress, a);
      const [sigB] = await signResult([fourth], chainId, ingestorAddress, b);
      return gasOf(registry.connect(other).proveEquivocation(a, sigA!, b, sigB!, chainId, ingestorAddress));
    };
    await equivocation(0);
    gas.prove_equivocation = await equivocation(1);

    // Reputation accrues from the fee ledger once an epoch is over and past the slashable window:
    // one call per operator and ledger epoch, no transaction per result (issue 10).
    const ledgerEpoch = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) / 3600n;
    const slashableWindow = await registry.slashableWindow();
    await connection.networkHelpers.time.increase(3600 + Number(slashableWindow) + 1);
    const share = (await oracle.feeOf(E.ZeroAddress)) / BigInt(signers.length);
    gas.accrue_reputation_1_ledger = await gasOf(
      registry.connect(other).accrueReputation(signers[0]!.address, [{ assetId: 0n, share, epoch: ledgerEpoch }]),
    );

    // A dispute's whole life: the challenge is committed a block before it is revealed, naming every
    // signer recorded at ingestion; one watcher votes; resolution after the window and the reveal.
    const s = await signedTransfer(E.parseEther("0.005"));
    await (await ingestor.connect(poster).ingest(s.result, s.instructions, s.sigs, daPointer)).wait();
    const params = await disputes.params();
    const watcherSigner = (await ethers.getSigners())[9]!;
    const claimed = E.id("correct");
    const challengeSalt = E.id("challenge-salt");
    const accused = signers.map((w) => w.address).sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1));
    const commitment = await disputes.challengeCommitment(
      await other.getAddress(),
      s.result.originChainId,
      s.result.requestId,
      0,
      claimed,
      challengeSalt,
    );
    gas.dispute_commit_challenge = await gasOf(disputes.connect(other).commitChallenge(commitment));
    gas.dispute_challenge = await gasOf(
      disputes.connect(other).challenge(s.result, accused, 0, claimed, challengeSalt, { value: params.bond }),
    );
    const id = await disputes.disputeCount();
    const salt = E.id("salt");
    const voteCommitment = await disputes.voteCommitment(id, await watcherSigner.getAddress(), true, salt);
    gas.dispute_commit = await gasOf(disputes.connect(watcherSigner).commitVote(id, voteCommitment));
    await connection.networkHelpers.time.increase(Number(params.commitPeriod) + 1);
    gas.dispute_reveal = await gasOf(disputes.connect(watcherSigner).revealVote(id, true, salt));
    await connection.networkHelpers.time.increase(
      Math.max(Number(params.revealPeriod), Number(params.challengeWindow)) + 1,
    );
    gas.dispute_resolve_upheld_3_signers = await gasOf(disputes.connect(other).resolve(id));
  }

  const rows = Object.entries(gas).map(([name, used]) => ({
    name,
    gasUsed: used,
    target: TARGETS[name] ?? "",
    meets: TARGETS[name] === undefined ? "" : used <= TARGETS[name]! ? "yes" : "NO",
  }));
  console.table(rows);
  mkdirSync("bench/results", { recursive: true });
  writeFileSync(
    "bench/results/gas.json",
    JSON.stringify({ generatedAt: new Date().toISOString(), gasUsed: gas, targets: TARGETS }, null, 2) + "\n",
  );
  console.log("wrote bench/results/gas.json");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
