import { ethers as ethersLib } from "ethers";
import { CREATE2_PROXY, CREATE2_PROXY_CODE, ensure, type DeployContext } from "./context.ts";

const FACTORY_SALT = ethersLib.id("versatus.factory.v1");

/** Creation code of each kind the factory creates (kind id = keccak256 of the name). */
export const FACTORY_KINDS = { ERC20: "StandardERC20", ERC721: "StandardERC721", OMNITOKEN: "OmniToken" } as const;

/**
 * The VersatusFactory, created through the canonical CREATE2 proxy so that it (and everything it
 * creates) has the same address on every chain deployed by the same owner.
 */
export default async function deployFactory(ctx: DeployContext): Promise<void> {
  const owner = ctx.resolveAccount(ctx.config.owner);
  const factoryArtifact = await ctx.ethers.getContractFactory("VersatusFactory", ctx.deployer);
  const initcode = ethersLib.concat([
    factoryArtifact.bytecode,
    ethersLib.AbiCoder.defaultAbiCoder().encode(["address"], [owner]),
  ]);
  if ((await ctx.ethers.provider.getCode(CREATE2_PROXY)) === "0x") {
    if (!ctx.config.installCreate2Proxy) {
      throw new Error(
        `The CREATE2 deployment proxy ${CREATE2_PROXY} is not on chain ${ctx.chainId}. Deploy it with its keyless transaction, or set "installCreate2Proxy": true for a local chain.`,
      );
    }
    await ctx.provider.request({ method: "hardhat_setCode", params: [CREATE2_PROXY, CREATE2_PROXY_CODE] });
    ctx.log(`installed the CREATE2 proxy at ${CREATE2_PROXY}`);
  }
  const address = ethersLib.getCreate2Address(CREATE2_PROXY, FACTORY_SALT, ethersLib.keccak256(initcode));
  const bytecodeHash = ethersLib.keccak256(factoryArtifact.bytecode);
  if ((await ctx.ethers.provider.getCode(address)) === "0x") {
    const tx = await ctx.deployer.sendTransaction({
      to: CREATE2_PROXY,
      data: ethersLib.concat([FACTORY_SALT, initcode]),
    });
    const receipt = await tx.wait();
    if ((await ctx.ethers.provider.getCode(address)) === "0x")
      throw new Error(`VersatusFactory was not created at ${address}`);
    ctx.log(`deployed VersatusFactory at ${address}`);
    ctx.store.save("VersatusFactory", {
      address,
      contractName: "VersatusFactory",
      abi: JSON.parse(factoryArtifact.interface.formatJson()) as unknown[],
      args: [owner],
      transactionHash: receipt?.hash,
      bytecodeHash,
      chainId: ctx.chainId,
    });
  } else if (!ctx.store.get("VersatusFactory")) {
    ctx.store.save("VersatusFactory", {
      address,
      contractName: "VersatusFactory",
      abi: JSON.parse(factoryArtifact.interface.formatJson()) as unknown[],
      args: [owner],
      bytecodeHash,
      chainId: ctx.chainId,
    });
  }

  const factory = await ctx.ethers.getContractAt("VersatusFactory", address, ctx.deployer);
  for (const [kindName, contractName] of Object.entries(FACTORY_KINDS)) {
    const kind = ethersLib.id(kindName);
    const code = (await ctx.ethers.getContractFactory(contractName)).bytecode;
    await ensure(
      ctx,
      `factory kind ${kindName} registered`,
      async () => (await factory.codeStoreOf(kind)) !== ethersLib.ZeroAddress,
      () => factory.registerKind(kind, code),
    );
  }
  const oracleAddress = ctx.store.get("ExecutableOracle")!.address;
  await ensure(
    ctx,
    "factory -> disperser wired",
    async () => (await factory.disperser()) !== ethersLib.ZeroAddress,
    () => factory.setDisperser(oracleAddress),
  );
  const oracle = await ctx.ethers.getContractAt("ExecutableOracle", oracleAddress, ctx.deployer);
  await ensure(
    ctx,
    "oracle -> factory wired",
    async () => (await oracle.factory()) === address,
    () => oracle.setFactory(address),
  );
}
