import type { HookContext, NetworkHooks } from "hardhat/types/hooks";
import type { NetworkConnection } from "hardhat/types/network";
import type { JsonRpcRequest, JsonRpcResponse } from "hardhat/types/providers";

/**
 * A JSON-RPC request over HTTP that fails with "other side closed" (undici `UND_ERR_SOCKET`) is
 * sent once more on a fresh connection. The usual cause is keep-alive: `hardhat node` closes a
 * connection idle for 5 s, and a client whose event loop was busy (a loaded machine) writes the
 * next request into it before it has seen the close, so the server never read it. Hardhat's HTTP
 * provider retries only refused connections and 429s; the devnet's deploy failed on this.
 *
 * `eth_sendTransaction` is never sent twice: the node signs and numbers it, so a request that did
 * arrive would become two transactions. A signed `eth_sendRawTransaction` sent again is the same
 * transaction (at worst "already known").
 */
const NOT_REPEATABLE = new Set(["eth_sendTransaction"]);

export function isClosedSocket(error: unknown): boolean {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if ((e as { code?: unknown }).code === "UND_ERR_SOCKET") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export default async (): Promise<Partial<NetworkHooks>> => ({
  async onRequest<ChainTypeT extends string>(
    context: HookContext,
    connection: NetworkConnection<ChainTypeT>,
    request: JsonRpcRequest,
    next: (c: HookContext, n: NetworkConnection<ChainTypeT>, r: JsonRpcRequest) => Promise<JsonRpcResponse>,
  ): Promise<JsonRpcResponse> {
    try {
      return await next(context, connection, request);
    } catch (error) {
      if (connection.networkConfig.type !== "http" || NOT_REPEATABLE.has(request.method) || !isClosedSocket(error))
        throw error;
      return await next(context, connection, request);
    }
  },
});
