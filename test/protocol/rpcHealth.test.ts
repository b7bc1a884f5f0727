import { expect } from "chai";
import { createServer, type Server } from "node:http";
import { createPublicClient, http } from "viem";
import { DependencyMonitor } from "../../protocol/ops.ts";
import { monitoredTransport } from "../../protocol/rpcHealth.ts";
import { capturedLogger } from "../lifecycle/helpers.ts";

/** A JSON-RPC server on a fixed port that answers eth_chainId, and reverts eth_call; stop() closes the port. */
async function fakeRpc(port = 0): Promise<{ port: number; stop: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      const call = JSON.parse(body) as { id: number; method: string };
      const reply =
        call.method === "eth_call"
          ? { jsonrpc: "2.0", id: call.id, error: { code: 3, message: "execution reverted", data: "0x" } }
          : { jsonrpc: "2.0", id: call.id, result: "0x7a69" };
      res.writeHead(200, { "content-type": "application/json", connection: "close" }).end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("protocol/rpcHealth: monitoredTransport", () => {
  it("an RPC going down and back is one line each way and shows in the monitor's health; a revert is not an outage", async () => {
    const rpc = await fakeRpc();
    const { lines, log } = capturedLogger();
    const where = `http://127.0.0.1:${rpc.port}/`;
    const monitor = new DependencyMonitor({ name: "rpc of chain 31337", where, log });
    const client = createPublicClient({ transport: monitoredTransport(http(where, { retryCount: 0 }), monitor) });

    expect(await client.getChainId()).to.equal(31337);
    expect(monitor.health()).to.include({ ok: true, where });
    // the node answered with an error: the RPC is up, the call failed
    await client.call({ to: "0x0000000000000000000000000000000000000001", data: "0x" }).catch(() => undefined);
    expect(monitor.isDown).to.equal(false);

    await rpc.stop();
    for (let i = 0; i < 3; i++) await client.getChainId().catch(() => undefined);
    expect(monitor.health()).to.include({ ok: false, failures: 3 });
    expect(monitor.health().downSince).to.be.a("string");

    const back = await fakeRpc(rpc.port);
    expect(await client.getChainId()).to.equal(31337);
    await back.stop();
    expect(monitor.health()).to.include({ ok: true });
    expect(lines.filter((l) => l.dependency === "rpc of chain 31337").map((l) => l.msg)).to.deep.equal([
      `rpc of chain 31337 unreachable at ${where}: retrying (logged again every 60 s while down)`,
      `rpc of chain 31337 reachable again at ${where}`,
    ]);
  });
});
