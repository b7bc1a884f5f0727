import { createRequire } from "node:module";
import { openTimers, trackTimers } from "./test/helpers/openTimers.ts";
import { defineConfig, task } from "hardhat/config";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import hardhatViem from "@nomicfoundation/hardhat-viem";

const require = createRequire(import.meta.url);

/** Well-known Hardhat development mnemonic: local chains only, never holds real funds. */
const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** solc cannot be downloaded here: compile with the soljson build shipped in the npm `solc` package. */
function compiler(runs: number) {
  return {
    version: "0.8.30",
    path: require.resolve("solc/soljson.js"),
    settings: {
      optimizer: { enabled: true, runs },
      evmVersion: "prague",
      // No metadata hash: bytecode (and so every CREATE2 address) depends on the code only, not on
      // comments or formatting, so two chains deployed from slightly different checkouts still match.
      metadata: { bytecodeHash: "none", appendCBOR: false },
    },
  };
}

export default defineConfig({
  plugins: [
    hardhatToolboxMochaEthers,
    hardhatViem,
    // "other side closed" on a kept-alive connection is sent again (scripts/hardhat/rpcRetry.ts)
    { id: "versatus-rpc-retry", hookHandlers: { network: () => import("./scripts/hardhat/rpcRetry.ts") } },
  ],
  solidity: {
    compilers: [compiler(10_000)],
    // The registry holds the operator set, reputation, slashing and the fraud proofs: at 10,000 runs
    // it exceeds the 24,576-byte code limit, so it alone is optimised for size over per-call gas.
    overrides: { "contracts/staking/StakingRegistry.sol": compiler(200) },
  },
  paths: {
    sources: "./contracts",
    tests: { solidity: "./test/contracts", mocha: "./test" },
  },
  test: {
    mocha: {
      rootHooks: {
        // A resource a test leaks (a Redis connection handed to BullMQ, a timer) keeps the process
        // alive after the last test and hangs CI; name it and exit instead. Unref'd: a clean run
        // exits on its own first.
        beforeAll() {
          trackTimers();
        },
        afterAll() {
          setTimeout(() => {
            console.error(`mocha finished; still open after 10 s: ${process.getActiveResourcesInfo().join(", ")}`);
            for (const timer of openTimers()) console.error(`  ${timer}`);
            process.exit(process.exitCode ?? 0);
          }, 10_000).unref();
        },
      },
    },
  },
  typechain: { outDir: "typechain-types" },
  networks: {
    chainA: { type: "edr-simulated", chainType: "l1", chainId: 31337 },
    chainBSim: { type: "edr-simulated", chainType: "l1", chainId: 31338 },
    localhost: {
      type: "http",
      chainType: "l1",
      url: "http://127.0.0.1:8545",
      chainId: 31337,
      accounts: { mnemonic: DEV_MNEMONIC },
    },
    chainB: {
      type: "http",
      chainType: "l1",
      url: "http://127.0.0.1:8546",
      chainId: 31338,
      accounts: { mnemonic: DEV_MNEMONIC },
    },
  },
  tasks: [
    task("deploy", "Deploys and wires the Versatus suite (idempotent), saving deployments/<network>/")
      .addFlag({ name: "reset", description: "Forget saved deployments for this network and deploy afresh" })
      .setAction(() => import("./deploy/task.ts"))
      .build(),
  ],
});
