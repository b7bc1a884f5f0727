import type { Logger } from "pino";
import { getAbiItem, getAddress, recoverTypedDataAddress, type Address, type Hex } from "viem";
import {
  controllerKey,
  mintedToken,
  objectiveBreaches,
  type ControllerResolver,
  type ObjectiveBreach,
} from "../protocol/conservation.ts";
import { Op, type Instruction } from "../protocol/instructions.ts";
import { resultDomain, resultTypes, type Result } from "../protocol/result.ts";
import {
  instructionIngestorAbi,
  ingestedCall,
  revertName,
  shortError,
  stakingRegistryAbi,
  type WatcherChain,
} from "./chain.ts";
import type { IngestedCall } from "../protocol/ingested.ts";

/**
 * Objective fraud proofs (SPEC 3.4, 3.5; no vote): for every result ingested on a chain other
 * than its origin, the watcher reads the signed Result and Instruction[] from the ingest
 * transaction, and the origin's signed Result of the same request, and checks them with
 * `objectiveBreaches` (protocol/conservation.ts, the same rule the worker applies):
 *
 * - a MINT of a token that does not name the program as controller on that chain →
 *   `registry.proveForeignMint({result, instructions, signature, chainId, ingestor}, index)`
 *   once per signer, on that chain's registry;
 * - MINTs on the destination (plus the origin's own) above what the origin BURNed →
 *   `registry.proveUnbackedMint(origin, [destination])` once per operator that signed both, on
 *   the origin chain's registry.
 *
 * Each operator is slashed at most once per request (the registry's fault id), so a repeated or
 * concurrent proof reverts with Staking_AlreadySlashed, which counts as done.
 */

const resultIngested = getAbiItem({ abi: instructionIngestorAbi, name: "ResultIngested" });

type Signed = { chainId: bigint; ingestor: Address; call: IngestedCall & { instructions: Instruction[] } };

export type FraudProverOptions = {
  chains: ReadonlyMap<bigint, WatcherChain>;
  controllers: ControllerResolver;
  log: Logger;
  /** Counts proofs by kind and outcome (sent, already, failed). */
  count?: (kind: ObjectiveBreach["kind"], outcome: string) => void;
};

export class FraudProver {
  private readonly o: FraudProverOptions;

  constructor(options: FraudProverOptions) {
    this.o = options;
  }

  /** Checks one ingested result (by its ingest transaction) and proves every breach found. */
  async check(
    chain: WatcherChain,
    ingested: { originChainId: bigint; requestId: Hex; transactionHash: Hex },
  ): Promise<ObjectiveBreach[]> {
    if (ingested.originChainId === chain.chainId) return []; // an origin result with a foreign mint never ingests
    const call = await ingestedCall(chain, ingested.transactionHash, ingested.originChainId, ingested.requestId);
    if (!call?.instructions || call.result.status !== 0) return [];
    const destination: Signed = {
      chainId: chain.chainId,
      ingestor: chain.ingestor,
      call: { ...call, instructions: call.instructions },
    };
    const origin = await this.originSigned(ingested.originChainId, ingested.requestId);
    const answers = new Map<string, boolean>();
    for (const ix of destination.call.instructions) {
      const token = ix.op === Op.MINT ? mintedToken(ix) : undefined;
      if (token === undefined) continue;
      answers.set(
        controllerKey(chain.chainId, token),
        await this.o.controllers(chain.chainId, token, call.result.programId),
      );
    }
    const breaches = objectiveBreaches(
      { chainId: chain.chainId, instructions: destination.call.instructions },
      origin ? { chainId: origin.chainId, instructions: origin.call.instructions } : undefined,
      answers,
    );
    for (const breach of breaches) {
      this.o.log.warn(
        { requestId: ingested.requestId, chainId: String(chain.chainId), breach: stringify(breach) },
        "objective breach",
      );
      if (breach.kind === "foreign_mint") await this.proveForeign(chain, destination, breach.index);
      else if (origin) await this.proveUnbacked(origin, destination);
    }
    return breaches;
  }

  private async originSigned(originChainId: bigint, requestId: Hex): Promise<Signed | undefined> {
    const origin = this.o.chains.get(originChainId);
    if (!origin) return undefined;
    const logs = await origin.client.getLogs({
      address: origin.ingestor,
      event: resultIngested,
      args: { requestId, originChainId },
      fromBlock: BigInt(origin.config.startBlock),
      toBlock: "latest",
      strict: true,
    });
    const log = logs.find((l) => !l.removed);
    if (!log) return undefined;
    const call = await ingestedCall(origin, log.transactionHash, originChainId, requestId);
    if (!call?.instructions) return undefined;
    return { chainId: originChainId, ingestor: origin.ingestor, call: { ...call, instructions: call.instructions } };
  }

  private async signersOf(signed: Signed): Promise<Map<Address, Hex>> {
    const bySigner = new Map<Address, Hex>();
    for (const signature of signed.call.signatures) {
      const signer = await recoverTypedDataAddress({
        domain: resultDomain(signed.chainId, signed.ingestor),
        types: resultTypes,
        primaryType: "Result",
        message: signed.call.result,
        signature,
      });
      bySigner.set(getAddress(signer), signature);
    }
    return bySigner;
  }

  private evidence(signed: Signed, signature: Hex) {
    return {
      result: signed.call.result as Result,
      instructions: signed.call.instructions.map((ix) => ({ ...ix })),
      signature,
      chainId: signed.chainId,
      ingestor: signed.ingestor,
    };
  }

  private async proveForeign(chain: WatcherChain, signed: Signed, index: number): Promise<void> {
    for (const [signer, signature] of await this.signersOf(signed)) {
      await this.send(chain, "foreign_mint", signer, "proveForeignMint", [
        this.evidence(signed, signature),
        BigInt(index),
      ]);
    }
  }

  private async proveUnbacked(origin: Signed, destination: Signed): Promise<void> {
    const chain = this.o.chains.get(origin.chainId)!;
    const atOrigin = await this.signersOf(origin);
    for (const [signer, signature] of await this.signersOf(destination)) {
      const originSignature = atOrigin.get(signer);
      if (!originSignature) continue; // the proof needs both signatures of one operator
      await this.send(chain, "unbacked_mint", signer, "proveUnbackedMint", [
        this.evidence(origin, originSignature),
        [this.evidence(destination, signature)],
      ]);
    }
  }

  private async send(
    chain: WatcherChain,
    kind: ObjectiveBreach["kind"],
    operator: Address,
    functionName: "proveForeignMint" | "proveUnbackedMint",
    args: unknown[],
  ): Promise<void> {
    try {
      const hash = await chain.send({ address: chain.registry, abi: stakingRegistryAbi, functionName, args });
      this.o.count?.(kind, "sent");
      this.o.log.warn({ kind, operator, tx: hash }, "fraud proven: operator slashed");
    } catch (error) {
      const name = revertName(error);
      if (name === "Staking_AlreadySlashed") {
        this.o.count?.(kind, "already");
        return;
      }
      this.o.count?.(kind, "failed");
      this.o.log.error({ kind, operator, err: shortError(error), revert: name }, "fraud proof failed");
    }
  }
}

function stringify(breach: ObjectiveBreach): Record<string, string | number> {
  return Object.fromEntries(
    Object.entries(breach).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : (v as string | number)]),
  );
}
