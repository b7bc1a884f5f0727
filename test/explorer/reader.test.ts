import { expect } from "chai";
import { network } from "hardhat";
import { ethers as E } from "ethers";
import { createWalletClient, custom, createPublicClient, type Address, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { devAccount } from "../../deploy/context.ts";
import {
  chainReader,
  disputesView,
  listRequests,
  requestDetail,
  stakingView,
  type ChainReader,
} from "../../explorer/reader.ts";
import { Op, type Instruction } from "../../protocol/instructions.ts";
import { challengeResult } from "../../protocol/staking.ts";
import { deployTestSuite, makeResult, operatorWallets, requestEth, signResult, type Suite } from "../helpers/suite.ts";

/** What the explorer's API reads from a chain, against a real suite with a result ingested and challenged. */
describe("explorer reader: requests, legs, stakes and disputes from the chain (in-process)", function () {
  this.timeout(60_000);
  let suite: Suite;
  let reader: ChainReader;
  let requestId: string;
  const payee = E.getAddress("0x000000000000000000000000000000000000bEEF");
  const signers = operatorWallets().slice(0, 3);

  before(async () => {
    const connection = await network.create("chainA");
    suite = await deployTestSuite(connection);
    reader = chainReader({
      name: "chainA",
      chainId: Number(suite.chainId),
      oracle: suite.addresses.ExecutableOracle as Address,
      ingestor: suite.addresses.InstructionIngestor as Address,
      staking: {
        registry: suite.addresses.StakingRegistry as Address,
        adapter: suite.addresses.NativeStakeAdapter as Address,
        disputeManager: suite.addresses.DisputeManager as Address,
      },
      transport: custom(connection.provider),
    });
    requestId = await requestEth(suite, suite.requester, 10n ** 15n, "0x1234");
    const instructions: Instruction[] = [
      { op: Op.TRANSFER, target: payee as Hex, amount: 4n * 10n ** 14n, data: "0x" },
    ];
    const result = makeResult({
      requestId,
      originChainId: suite.chainId,
      programId: suite.programId,
      input: "0x1234",
      instructions,
    });
    const signatures = await signResult(signers, suite.chainId, await suite.ingestor.getAddress(), result);
    await (await suite.ingestor.connect(suite.poster).ingest(result, instructions, signatures, "0x00")).wait();
    // the staked watcher (dev account 9) says the record is unavailable
    const watcher = createWalletClient({
      account: privateKeyToAccount(devAccount(9).privateKey as Hex),
      transport: custom(connection.provider),
    });
    await challengeResult(
      {
        publicClient: createPublicClient({ transport: custom(connection.provider) }) as PublicClient,
        walletClient: watcher,
        addresses: {
          registry: suite.addresses.StakingRegistry as Address,
          adapter: suite.addresses.NativeStakeAdapter as Address,
          disputes: suite.addresses.DisputeManager as Address,
        },
      },
      { originChainId: suite.chainId, requestId: requestId as Hex },
      { kind: "DataUnavailable" },
    );
  });

  it("lists the request as settled with its program and latency", async () => {
    const rows = await listRequests(reader);
    const row = rows.find((r) => r.requestId === requestId)!;
    expect(row).to.include({ state: "settled", program: "test-program", amount: String(10n ** 15n) });
    expect(row.latencyBlocks).to.equal(1);
  });

  it("shows each signature with its recovered signer and how each instruction settled", async () => {
    const detail = (await requestDetail([reader], Number(suite.chainId), requestId as Hex))!;
    // binary input: no text form, the page shows the hex
    expect(detail.inputText).to.equal(null);
    expect(detail.input).to.equal("0x1234");
    expect(detail.legs).to.have.length(1);
    const [leg] = detail.legs;
    expect(leg!.signatures.map((s) => s.signer).sort()).to.deep.equal(signers.map((w) => w.address).sort());
    expect(leg!.instructions).to.deep.equal([
      { op: "TRANSFER", target: payee, amount: String(4n * 10n ** 14n), data: "0x", outcome: "done" },
    ]);
    expect(leg!.settlement).to.deep.include({ spent: String(4n * 10n ** 14n) });
    expect(detail.quorum.members).to.have.length(4);
    expect(detail.recordError).to.equal("no DA store configured for the explorer");
  });

  it("shows the open dispute: claim, challenger, the accused signers", async () => {
    const [dispute] = await disputesView(reader);
    expect(dispute).to.deep.include({
      requestId,
      kind: "DataUnavailable",
      state: "Open",
      challenger: devAccount(9).address,
      slashed: null,
    });
    expect([...dispute!.accused].sort()).to.deep.equal(signers.map((w) => w.address).sort());
  });

  it("shows the four staked operators and the watcher with their stakes and the curve", async () => {
    const view = (await stakingView(reader))!;
    expect(view.operators.map((o) => o.active)).to.deep.equal([true, true, true, true]);
    expect(view.watchers.map((w) => w.account)).to.deep.equal([devAccount(9).address]);
    expect(BigInt(view.curve.base)).to.be.greaterThan(BigInt(view.curve.floor));
    expect(view.slashes).to.deep.equal([]);
  });
});
