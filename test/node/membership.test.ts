import { expect } from "chai";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import { pino } from "pino";
import {
  createPublicClient,
  createWalletClient,
  custom,
  parseEther,
  type Address,
  type Hex,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { Membership } from "../../cli/node/membership.ts";
import { loadNodeConfig } from "../../cli/node/index.ts";
import { devAccount } from "../../deploy/context.ts";
import { viemChain } from "../../ingestor/chains.ts";
import { registerWatcher, stake, type StakingClients } from "../../protocol/staking.ts";
import { deployTestSuite, type Suite } from "../helpers/suite.ts";

describe("Membership: the node's reading of operators and watchers on chain", function () {
  this.timeout(120_000);
  let connection: NetworkConnection;
  let suite: Suite;
  /** fromBlock/toBlock of every eth_getLogs the node sent. */
  const logQueries: { fromBlock: bigint; toBlock: bigint }[] = [];
  let publicClient: PublicClient;
  const chain = viemChain({ chainId: 31337, rpcUrl: "http://in-process.invalid" } as Parameters<typeof viemChain>[0]);

  before(async () => {
    connection = await network.create("chainA");
    suite = await deployTestSuite(connection);
    const provider = connection.provider as Parameters<typeof custom>[0];
    publicClient = createPublicClient({
      chain,
      transport: custom({
        request: async (args: { method: string; params?: unknown }) => {
          if (args.method === "eth_getLogs") {
            const [filter] = args.params as [{ fromBlock: Hex; toBlock: Hex }];
            logQueries.push({ fromBlock: BigInt(filter.fromBlock), toBlock: BigInt(filter.toBlock) });
          }
          return provider.request(args as Parameters<typeof provider.request>[0]);
        },
      }),
    }) as PublicClient;
  });
  after(async () => {
    await connection?.close();
  });

  const becomeWatcher = async (index: number) => {
    const c: StakingClients = {
      publicClient,
      walletClient: createWalletClient({
        chain,
        transport: custom(connection.provider as Parameters<typeof custom>[0]),
        account: privateKeyToAccount(devAccount(index).privateKey as Hex),
      }),
      addresses: {
        adapter: suite.addresses.NativeStakeAdapter as Address,
        registry: suite.addresses.StakingRegistry as Address,
        disputes: suite.addresses.DisputeManager as Address,
      },
    };
    await stake(c, parseEther("1"));
    await registerWatcher(c);
    return devAccount(index).address as Address;
  };
  const config = () =>
    loadNodeConfig({
      raw: {
        network: { name: "test", peerKeyFile: "/tmp/unused-peer.key", listen: [], bootstrap: [] },
        roles: ["relay"],
        redis: { url: "redis://127.0.0.1:6379/1" },
        chains: [
          {
            chainId: 31337,
            rpcUrl: "http://in-process.invalid",
            oracle: suite.addresses.ExecutableOracle,
            ingestor: suite.addresses.InstructionIngestor,
          },
        ],
        programs: { dirs: ["/tmp"] },
        da: { primary: { layer: "local", dir: "/tmp/unused-da" } },
      },
      env: {},
    });
  const mine = (blocks: number) =>
    connection.provider.request({ method: "hardhat_mine", params: [`0x${blocks.toString(16)}`] });

  it("reads watcher registrations incrementally: a refresh scans only new blocks (with a short overlap) and sees new watchers", async () => {
    const known = await Membership.open(config(), () => publicClient, pino({ level: "silent" }));
    const deployed = known.watchers();
    logQueries.length = 0;
    const first = await becomeWatcher(12);
    const membership = await Membership.open(config(), () => publicClient, pino({ level: "silent" }));
    expect(membership.watchers()).to.deep.equal([...deployed, first]);
    expect(membership.operators()).to.have.length(4);
    expect(logQueries[0]!.fromBlock, "the first refresh scans from genesis").to.equal(0n);
    const scannedTo = logQueries.at(-1)!.toBlock;

    await mine(40);
    const second = await becomeWatcher(13);
    logQueries.length = 0;
    await membership.refresh();
    expect(membership.watchers()).to.have.members([...deployed, first, second]);
    expect(logQueries).to.have.length(1);
    expect(logQueries[0]!.fromBlock, "only the blocks since the last scan, minus the overlap").to.equal(
      scannedTo - 11n,
    );
    expect(logQueries[0]!.toBlock).to.equal(await publicClient.getBlockNumber());
  });

  it("scans a long history in bounded ranges", async () => {
    await mine(25_000);
    logQueries.length = 0;
    const membership = await Membership.open(config(), () => publicClient, pino({ level: "silent" }));
    expect(membership.watchers()).to.have.length(3);
    expect(logQueries.length).to.be.greaterThanOrEqual(3);
    for (const q of logQueries) expect(q.toBlock - q.fromBlock + 1n).to.be.at.most(10_000n);
  });
});
