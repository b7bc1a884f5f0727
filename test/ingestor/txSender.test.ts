import { expect } from "chai";
import { network } from "hardhat";
import { createPublicClient, createWalletClient, custom, type Hex, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { devAccount } from "../../deploy/context.ts";
import { TxSender } from "../../ingestor/txSender.ts";
import { eventually, silentLogger } from "./helpers.ts";

/** A fresh in-process chain and viem clients for dev account `index` on it. */
async function keyOnNewChain(index: number) {
  const connection = await network.create();
  const transport = custom(connection.provider as Parameters<typeof custom>[0]);
  const chainId = Number(await connection.provider.request({ method: "eth_chainId" }));
  const chain = {
    id: chainId,
    name: "test",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: ["http://127.0.0.1:1"] } },
  };
  const account = privateKeyToAccount(devAccount(index).privateKey as Hex);
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 20 }) as PublicClient;
  const walletClient = createWalletClient({ chain, transport, account });
  return { connection, account, publicClient, walletClient };
}

describe("ingestor: TxSender (nonce, fee bumping, receipts)", function () {
  this.timeout(30_000);

  it("re-sends a transaction that is not mined with the same nonce and higher fees, and returns the mined one", async () => {
    const { connection, account, publicClient, walletClient } = await keyOnNewChain(5);
    let bumps = 0;
    const sender = new TxSender({
      publicClient,
      walletClient,
      account,
      receiptTimeoutMs: 200,
      feeBumpPercent: 25,
      maxFeeBumps: 10,
      logger: silentLogger,
      onFeeBump: () => void bumps++,
    });
    const to = devAccount(9).address as Hex;
    // a first transaction mines normally and sets the nonce
    const first = await sender.send({ to, data: "0x", gas: 21_000n });
    expect(first.status).to.equal("success");

    await connection.provider.request({ method: "evm_setAutomine", params: [false] });
    const sending = sender.send({ to, data: "0x", gas: 21_000n });
    await eventually(async () => bumps >= 1, 10_000, "a fee bump");
    await connection.provider.request({ method: "evm_mine", params: [] });
    const receipt = await sending;
    await connection.provider.request({ method: "evm_setAutomine", params: [true] });
    expect(receipt.status).to.equal("success");
    const tx = await publicClient.getTransaction({ hash: receipt.transactionHash });
    expect(tx.nonce).to.equal(1);
    const block = await publicClient.getBlock({ blockNumber: receipt.blockNumber, includeTransactions: true });
    // only one of the versions was mined
    expect(
      block.transactions.filter((t) => typeof t !== "string" && t.from.toLowerCase() === account.address.toLowerCase()),
    ).to.have.length(1);
    // and the next transaction takes the next nonce
    const next = await sender.send({ to, data: "0x", gas: 21_000n });
    expect((await publicClient.getTransaction({ hash: next.transactionHash })).nonce).to.equal(2);
  });

  it("concurrent sends of one key take consecutive nonces while both are pending, and both are mined", async () => {
    const { connection, account, publicClient, walletClient } = await keyOnNewChain(6);
    const sender = new TxSender({
      publicClient,
      walletClient,
      account,
      receiptTimeoutMs: 10_000,
      feeBumpPercent: 25,
      maxFeeBumps: 1,
      logger: silentLogger,
    });
    const to = devAccount(9).address as Hex;
    await connection.provider.request({ method: "evm_setAutomine", params: [false] });
    try {
      const sends = [1, 2, 3].map(() => sender.send({ to, data: "0x", gas: 21_000n }));
      const pending = async () =>
        Number(await publicClient.getTransactionCount({ address: account.address, blockTag: "pending" }));
      await eventually(async () => (await pending()) === 3, 10_000, "three pending transactions");
      await connection.provider.request({ method: "evm_mine", params: [] });
      const receipts = await Promise.all(sends);
      expect(receipts.map((r) => r.status)).to.deep.equal(["success", "success", "success"]);
      const nonces = await Promise.all(
        receipts.map(async (r) => (await publicClient.getTransaction({ hash: r.transactionHash })).nonce),
      );
      expect([...nonces].sort()).to.deep.equal([0, 1, 2]);
      expect(new Set(receipts.map((r) => r.blockNumber)).size).to.equal(1);
    } finally {
      await connection.provider.request({ method: "evm_setAutomine", params: [true] });
    }
  });
});
