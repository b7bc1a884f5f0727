import { getAddress, type Address, type PublicClient } from "viem";
import { instructionIngestorAbi } from "../../protocol/generated/abis.ts";
import type { Logger } from "../../protocol/ops.ts";
import { readActiveOperators } from "../../relayer/index.ts";
import type { NodeConfig } from "./config.ts";

/**
 * The active operator set as this node sees it on chain: `config.operators.operatorSet`, else
 * `InstructionIngestor.operatorSet()` of the first chain (the set its signatures are checked
 * against); `allOperators()` filtered by `isActive()`, re-read every `timing.membershipRefreshMs`.
 * Every node derives quorums and posting order from its own reading: nobody tells it who is in.
 */
export class Membership {
  private current: Address[] = [];
  private timer: NodeJS.Timeout | undefined;
  readonly source: { chainId: number; address: Address };
  private readonly client: PublicClient;
  private readonly log: Logger;

  private constructor(source: { chainId: number; address: Address }, client: PublicClient, log: Logger) {
    this.source = source;
    this.client = client;
    this.log = log;
  }

  static async open(config: NodeConfig, clientOf: (chainId: number) => PublicClient, log: Logger): Promise<Membership> {
    let source = config.operators?.operatorSet as { chainId: number; address: Address } | undefined;
    if (!source) {
      const first = config.chains[0]!;
      const address = await clientOf(first.chainId).readContract({
        address: first.ingestor as Address,
        abi: instructionIngestorAbi,
        functionName: "operatorSet",
      });
      source = { chainId: first.chainId, address: getAddress(address) };
    }
    const membership = new Membership(source, clientOf(source.chainId), log);
    await membership.refresh();
    return membership;
  }

  operators = (): Address[] => this.current;

  refresh = async (): Promise<Address[]> => {
    this.current = await readActiveOperators(this.client, this.source.address);
    return this.current;
  };

  start(everyMs: number): void {
    this.timer = setInterval(
      () => void this.refresh().catch((err: unknown) => this.log.warn({ err }, "could not re-read the operator set")),
      everyMs,
    );
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
