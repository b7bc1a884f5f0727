import { expect } from "chai";
import { network } from "hardhat";
import { createPublicClient, createWalletClient, custom, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ethers as E } from "ethers";
import { DEVNET_NAME, DEVNET_TXT, publishName } from "../../cli/devnet/dns.ts";
import { devKey } from "../../cli/devnet/prepare.ts";
import { deployNameRegistry } from "./helpers.ts";

describe("devnet: the sample name in global state", function () {
  this.timeout(60_000);

  it("registers hello.versatus by commit-reveal, points it at a program, and a re-run sends nothing", async () => {
    const connection = await network.create("chainA");
    const { address } = await deployNameRegistry(connection);
    const transport = custom(connection.provider);
    const client = createPublicClient({ transport }) as PublicClient;
    const wallet = createWalletClient({ account: privateKeyToAccount(devKey(0)), transport });
    const programId = E.sha256(E.toUtf8Bytes("payout-splitter")) as `0x${string}`;
    const options = { client, wallet, registry: address, name: DEVNET_NAME, programId, txt: [DEVNET_TXT] };
    expect(await publishName(options)).to.equal(4); // commit, register, setContent, setText
    const registry = await connection.ethers.getContractAt("NameRegistry", address);
    const records = await registry.records(DEVNET_NAME);
    expect(records.owner).to.equal(wallet.account.address);
    expect(records.contentId).to.equal(programId);
    expect(records.contentKind).to.equal(1n);
    expect([...records.txt]).to.deep.equal([DEVNET_TXT]);
    expect(await publishName(options)).to.equal(0);
  });
});
