import { expect } from "chai";
import { network } from "hardhat";
import { ethers as E } from "ethers";
import { encodeFunctionData, stringToHex, type Hex } from "viem";
import { waitForResultWithEthers, requestWithEthers } from "../../examples/ethers/versatus-ethers.ts";
import { ExampleConsumer__factory, InstructionIngestor__factory } from "../../typechain-types/index.ts";
import { Op, type Instruction } from "../../protocol/instructions.ts";
import { deployTestSuite, makeResult, operatorWallets, signResult, type Suite } from "../helpers/suite.ts";

const onResultAbi = [
  {
    type: "function",
    name: "onResult",
    stateMutability: "payable",
    inputs: [
      { name: "requestId", type: "bytes32" },
      { name: "result", type: "bytes" },
    ],
    outputs: [],
  },
] as const;

describe("ethers v6 with the TypeChain contracts (typechain-types/, generated on build)", function () {
  this.timeout(120_000);
  let suite: Suite;

  before(async () => {
    suite = await deployTestSuite(await network.create("chainA"));
  });

  /** Signs (3 of the 4 dev operators) and ingests a Result for a request, as the network would. */
  async function ingest(requestId: string, programId: string, input: string, instructions: Instruction[]) {
    const result = makeResult({ requestId, originChainId: suite.chainId, programId, input, instructions });
    const ingestorAddress = await suite.ingestor.getAddress();
    const signatures = await signResult(operatorWallets().slice(0, 3), suite.chainId, ingestorAddress, result);
    const ingestor = InstructionIngestor__factory.connect(ingestorAddress, suite.poster);
    await (await ingestor.ingest(result, instructions, signatures, "0x00")).wait();
  }

  it("the ethers example requests by program name and sees its result ingested", async () => {
    const input = JSON.stringify({ hello: "ethers" });
    const { requestId, blockNumber, programId } = await requestWithEthers(suite.requester, {
      oracle: await suite.oracle.getAddress(),
      programName: "test-program",
      input,
      ttl: 600n,
      value: 10n ** 15n,
    });
    expect(programId).to.equal(suite.programId);
    const payee = E.Wallet.createRandom().address;
    await ingest(requestId, programId, E.hexlify(E.toUtf8Bytes(input)), [
      { op: Op.TRANSFER, target: payee as Hex, amount: 5n * 10n ** 14n, data: "0x" },
    ]);
    const result = await waitForResultWithEthers(suite.ethers.provider, {
      ingestor: await suite.ingestor.getAddress(),
      requestId,
      originChainId: suite.chainId,
      fromBlock: blockNumber,
      timeoutMs: 10_000,
    });
    expect(result.status).to.equal(0n);
    expect(await suite.ethers.provider.getBalance(payee)).to.equal(5n * 10n ** 14n);
  });

  it("deploys the example consumer with its typed factory and receives a result through the CALL instruction", async () => {
    const oracle = await suite.oracle.getAddress();
    const consumer = await new ExampleConsumer__factory(suite.owner).deploy(oracle, suite.programId, suite.owner);
    await consumer.waitForDeployment();
    const question = E.hexlify(E.toUtf8Bytes("what is the answer?"));
    const requestId = await suite.oracle.nextRequestId(await consumer.getAddress(), suite.programId, question);
    await (await consumer.ask(question, 600n, { value: 10n ** 15n })).wait();
    expect(await consumer.isAwaiting(requestId)).to.equal(true);
    const data = encodeFunctionData({
      abi: onResultAbi,
      functionName: "onResult",
      args: [requestId as Hex, stringToHex("42")],
    });
    await ingest(requestId, suite.programId, question, [
      { op: Op.CALL, target: (await consumer.getAddress()) as Hex, amount: 0n, data },
    ]);
    expect(await consumer.latestAnswer()).to.equal(stringToHex("42"));
    expect(await consumer.latestRequestId()).to.equal(requestId);
    expect(await consumer.isAwaiting(requestId)).to.equal(false);
  });
});
