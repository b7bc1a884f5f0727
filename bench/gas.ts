/**
 * Gas benchmark: receipt gasUsed of the hot paths, on the in-process chain, with the suite deployed
 * exactly as `npx hardhat deploy` does (staked registry). Prints a table and writes
 * bench/results/gas.json (top-level keys), bench/results/gas.md (the table with the Chainlink
 * Functions column of issue 14) and bench/results/gas-batch.svg (batch size -> gas per result).
 * Run: npm run bench:gas
 */
import { mkdirSync, writeFileSync } from "node:fs";
import hre from "hardhat";
import { ethers as E } from "ethers";
import { privateKeyToAccount } from "viem/accounts";
import type { Address } from "viem";
import { Op, type Instruction } from "../protocol/instructions.ts";
import { orderBatchSignatures, signBatch } from "../protocol/attestation.ts";
import type { Result } from "../protocol/result.ts";
import { deployTestSuite, makeResult, operatorWallets, signResult, type Suite } from "../test/helpers/suite.ts";

const TARGETS: Record<string, number> = {
  request_eth: 60_000,
  ingest_single: 85_000,
  ingest_batch20_all_in_per_result: 35_000,
  ingest_mint: 80_000,
  prove_equivocation: 120_000,
};

/** The same bench on the code before issue 14 (branch point 372ac62, this machine, every batch
 * result checked to land): the "before" column of bench/results/gas.md. */
const BEFORE: Record<string, number> = {
  request_eth: 59_719,
  ingest_single: 131_576,
  ingest_batch20_per_result: 74_327,
  ingest_mint: 150_669,
  accrue_reputation_1_ledger: 98_353,
  reputation_accrual_3_signers: 292_761,
  ingest_batch20_all_in_per_result: 88_965,
};

/** Chainlink Functions v1 (Router 1.0.0 + Coordinator 1.3.0) measured with the same EDR (issue 14). */
const CHAINLINK: Record<string, string> = {
  request_eth: "209,000",
  ingest_single: "164,994",
  ingest_batch20_all_in_per_result: "64,770",
  ingest_mint: "– (Hyperlane multisig verify ≥ 151,966 + mint; LayerZero verify 77,937 + 80k receive)",
};

const BATCH_SIZES = [1, 5, 20, 100] as const;

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
  // A batch runs each result in a frame whose failure it survives, so eth_estimateGas settles on a
  // limit that skips results for want of gas: batches get a fixed limit, and every result must land.
  const BATCH_GAS = { gasLimit: 16_000_000n }; // under the 2^24 transaction gas cap (EIP-7825)
  const ingestedIn = async (
    p: Promise<{ wait: () => Promise<{ gasUsed: bigint; logs: readonly E.Log[] } | null> }>,
    expected: number,
  ) => {
    const receipt = (await (await p).wait())!;
    const landed = receipt.logs.filter((l) => ingestor.interface.parseLog(l)?.name === "ResultIngested").length;
    if (landed !== expected) throw new Error(`batch ingested ${landed} of ${expected} results`);
    return Number(receipt.gasUsed);
  };

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

  // Activity snapshots (issue 14, StakingRegistry.snapshotActive): a signer proved active until a
  // time costs the ingest its member slot only, not an adapter call and its stake slots. A snapshot
  // lasts the adapter's unbonding period minus the slashable window (120 s in the default deploy
  // config), and the bench's chain time follows the wall clock: take a fresh one before each
  // measured ingest (its gas is measured and reported apart, `snapshot_active_3_signers`).
  const registry = await ethers.getContractAt("StakingRegistry", suite.addresses.StakingRegistry!);
  const signerAddresses = signers.map((w) => w.address);
  const snapshotGas: number[] = [];
  const snapshot = async () => {
    snapshotGas.push(await gasOf(registry.connect(other).snapshotActive(signerAddresses)));
  };

  // Warm the fee ledger slot once (first result of a (set, asset, share) ledger writes a new slot).
  {
    const s = await signedTransfer(E.parseEther("0.005"));
    await (await ingestor.connect(poster).ingest(s.result, s.instructions, s.sigs, daPointer)).wait();
  }
  {
    // without a snapshot: every signer's stake asked of the adapter (the path before issue 14's snapshot)
    const s = await signedTransfer(E.parseEther("0.0099"));
    gas.ingest_single_live_stake = await gasOf(
      ingestor.connect(poster).ingest(s.result, s.instructions, s.sigs, daPointer),
    );
  }
  {
    const s = await signedTransfer(E.parseEther("0.0099"));
    await snapshot();
    gas.ingest_single = await gasOf(ingestor.connect(poster).ingest(s.result, s.instructions, s.sigs, daPointer));
  }
  // Batch size -> gas per result, for both batch forms: `ingestBatch` (every result carries its
  // quorum's signatures) and `ingestAttested` (the quorum attests the whole batch once, issue 14).
  const operatorAccounts = signers.map((w) => privateKeyToAccount(w.privateKey as `0x${string}`));
  const curve: Record<string, { signed_per_result: number; attested_per_result: number }> = {};
  for (const size of BATCH_SIZES) {
    const signed = [];
    for (let i = 0; i < size; i++) signed.push(await signedTransfer(E.parseEther("0.0099")));
    await snapshot();
    const signedTotal = await ingestedIn(
      ingestor.connect(poster).ingestBatch(
        signed.map((b) => b.result),
        signed.map((b) => b.instructions),
        signed.map((b) => b.sigs),
        signed.map(() => daPointer),
        BATCH_GAS,
      ),
      size,
    );
    const attested = [];
    for (let i = 0; i < size; i++) attested.push(await signedTransfer(E.parseEther("0.0099")));
    const results: Result[] = attested.map((b) => b.result);
    const signatures = orderBatchSignatures(
      await Promise.all(
        operatorAccounts.map(async (a) => ({
          signer: a.address,
          signature: await signBatch(a, chainId, ingestorAddress as Address, results),
        })),
      ),
    );
    await snapshot();
    const attestedTotal = await ingestedIn(
      ingestor.connect(poster).ingestAttested(
        results,
        attested.map((b) => b.instructions),
        attested.map(() => daPointer),
        signatures,
        BATCH_GAS,
      ),
      size,
    );
    curve[String(size)] = {
      signed_per_result: Math.round(signedTotal / size),
      attested_per_result: Math.round(attestedTotal / size),
    };
    if (size === 20) {
      gas.ingest_batch20_total = signedTotal;
      gas.ingest_batch20_per_result = Math.round(signedTotal / 20);
      gas.ingest_attested20_total = attestedTotal;
      gas.ingest_attested20_per_result = Math.round(attestedTotal / 20);
    }
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
      const sigs = await signResult(signers, chainId, ingestorAddress, result);
      await snapshot();
      return gasOf(ingestor.connect(poster).ingest(result, instructions, sigs, daPointer));
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
    const ref = { assetId: 0n, share, epoch: ledgerEpoch };
    // one operator alone (estimated, so the ledger stays unaccrued for the measured call below)
    gas.accrue_reputation_1_ledger = Number(
      await registry.connect(other).accrueReputation.estimateGas(signers[0]!.address, [ref]),
    );
    // the ledger's three signers in one transaction (issue 14: accrueReputationMany)
    const accrued = [
      await gasOf(
        registry.connect(other).accrueReputationMany(
          signers.map((w) => w.address),
          [ref],
        ),
      ),
    ];
    // All-in per result of a batch of 20: the batch, plus the reputation those results earn. The
    // count rides the fee-ledger write the batch already makes (no transaction per result); what is
    // left is one accrueReputation per signer and ledger epoch (an hour). Charged here entirely to
    // these 20 results, as if they were the only results of their hour (the worst case; it shrinks
    // with every other result the same operators sign that hour). One accrueReputationMany call
    // accrues the ledger for all three signers.
    const accrualAll = accrued.reduce((a, b) => a + b, 0);
    gas.reputation_accrual_3_signers = accrualAll;
    gas.ingest_batch20_all_in_per_result = Math.round((gas.ingest_attested20_total! + accrualAll) / 20);
    gas.ingest_batch20_signed_all_in_per_result = Math.round((gas.ingest_batch20_total! + accrualAll) / 20);
    // The snapshot the batch relied on, charged entirely to its 20 results too (the worst case: in
    // the default config a snapshot lasts 120 s, in which a busy quorum posts many batches).
    gas.snapshot_active_3_signers = snapshotGas[snapshotGas.length - 1]!;
    gas.ingest_batch20_all_in_with_snapshot_per_result = Math.round(
      (gas.ingest_attested20_total! + accrualAll + gas.snapshot_active_3_signers) / 20,
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
  console.table(Object.entries(curve).map(([size, c]) => ({ batch_size: Number(size), ...c })));
  mkdirSync("bench/results", { recursive: true });
  writeFileSync(
    "bench/results/gas.json",
    JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        ...gas,
        batch_curve: curve,
        gasUsed: gas,
        targets: TARGETS,
        before: BEFORE,
      },
      null,
      2,
    ) + "\n",
  );
  writeFileSync("bench/results/gas.md", markdownTable(gas, curve));
  writeFileSync("bench/results/gas-batch.svg", batchCurveSvg(curve));
  console.log("wrote bench/results/gas.json, gas.md, gas-batch.svg");
}

const fmt = (n: number | undefined) => (n === undefined ? "–" : n.toLocaleString("en-US"));

/** The issue 14 table: before, now, Chainlink Functions, target; then the batch curve. */
function markdownTable(
  gas: Record<string, number>,
  curve: Record<string, { signed_per_result: number; attested_per_result: number }>,
): string {
  const rows: [string, string, number | undefined, number | undefined][] = [
    ["request (ETH)", "request_eth", BEFORE.request_eth, gas.request_eth],
    ["fulfil one result, 3 signatures", "ingest_single", BEFORE.ingest_single, gas.ingest_single],
    [
      "per result in a batch of 20, all-in (reputation included)",
      "ingest_batch20_all_in_per_result",
      // before issue 14: per-result signatures, and three accrueReputation calls (one per signer)
      BEFORE.ingest_batch20_all_in_per_result,
      gas.ingest_batch20_all_in_per_result,
    ],
    ["cross-chain mint (verify + mint)", "ingest_mint", BEFORE.ingest_mint, gas.ingest_mint],
  ];
  const lines = [
    "| path | key | before | now | Chainlink Functions | target |",
    "|---|---|---|---|---|---|",
    ...rows.map(([label, key, before, now]) => {
      const target = TARGETS[key];
      const mark = target === undefined || now === undefined ? "" : now <= target ? " ✅" : " ❌";
      return `| ${label} | \`${key}\` | ${fmt(before)} | ${fmt(now)} | ${CHAINLINK[key] ?? "–"} | ≤ ${fmt(target)}${mark} |`;
    }),
    "",
    "| batch size | gas per result, per-result signatures (`ingestBatch`) | gas per result, attested batch (`ingestAttested`) |",
    "|---|---|---|",
    ...Object.entries(curve).map(
      ([size, c]) => `| ${size} | ${fmt(c.signed_per_result)} | ${fmt(c.attested_per_result)} |`,
    ),
    "",
  ];
  return lines.join("\n");
}

/** A small line chart (no dependency): batch size (log scale) against gas per result. */
function batchCurveSvg(curve: Record<string, { signed_per_result: number; attested_per_result: number }>): string {
  const W = 640;
  const H = 400;
  const m = { left: 70, right: 20, top: 40, bottom: 50 };
  const sizes = Object.keys(curve).map(Number);
  const series = [
    { name: "ingestBatch (per-result signatures)", color: "#c0392b", key: "signed_per_result" as const },
    { name: "ingestAttested (batch attestation)", color: "#2471a3", key: "attested_per_result" as const },
  ];
  const yMax =
    Math.ceil(Math.max(...sizes.flatMap((s) => series.map((v) => curve[String(s)]![v.key]))) / 20_000) * 20_000;
  const lx = (n: number) => Math.log10(n);
  const x = (n: number) =>
    m.left + ((lx(n) - lx(sizes[0]!)) / (lx(sizes[sizes.length - 1]!) - lx(sizes[0]!))) * (W - m.left - m.right);
  const y = (g: number) => H - m.bottom - (g / yMax) * (H - m.top - m.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">Gas per result by batch size (receipt gasUsed / results)</text>`,
  ];
  for (let g = 0; g <= yMax; g += 20_000) {
    out.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${y(g)}" y2="${y(g)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${y(g) + 4}" text-anchor="end">${g.toLocaleString("en-US")}</text>`);
  }
  for (const s of sizes) {
    out.push(`<text x="${x(s)}" y="${H - m.bottom + 18}" text-anchor="middle">${s}</text>`);
  }
  out.push(`<text x="${W / 2}" y="${H - 10}" text-anchor="middle">results per batch (log scale)</text>`);
  const target = 35_000;
  out.push(
    `<line x1="${m.left}" x2="${W - m.right}" y1="${y(target)}" y2="${y(target)}" stroke="#27ae60" stroke-dasharray="6 4"/>`,
    `<text x="${W - m.right}" y="${y(target) - 6}" text-anchor="end" fill="#27ae60">target 35,000 all-in</text>`,
  );
  series.forEach((v, i) => {
    const pts = sizes.map((s) => `${x(s).toFixed(1)},${y(curve[String(s)]![v.key]).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${v.color}" stroke-width="2" points="${pts.join(" ")}"/>`);
    for (const s of sizes) {
      const g = curve[String(s)]![v.key];
      out.push(`<circle cx="${x(s).toFixed(1)}" cy="${y(g).toFixed(1)}" r="3" fill="${v.color}"/>`);
      out.push(
        `<text x="${x(s).toFixed(1)}" y="${(y(g) - 8).toFixed(1)}" text-anchor="middle" fill="${v.color}">${g.toLocaleString("en-US")}</text>`,
      );
    }
    out.push(`<rect x="${m.left + 10}" y="${m.top + 4 + i * 18}" width="12" height="3" fill="${v.color}"/>`);
    out.push(`<text x="${m.left + 28}" y="${m.top + 9 + i * 18}">${v.name}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
