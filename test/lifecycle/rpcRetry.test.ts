import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { network } from "hardhat";

/**
 * Hardhat's HTTP provider against a JSON-RPC server that closes a kept-alive connection when the
 * next request arrives on it, without reading it: what a client whose event loop was late sees
 * after `hardhat node` closed an idle connection (the devnet's deploy died on it under load).
 */
describe("hardhat HTTP provider: a request into a closed kept-alive connection", function () {
  this.timeout(60_000);
  let server: Server;
  let url: string;
  const received: string[] = [];
  let dropNext = false;

  before(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        const request = JSON.parse(body) as { id: number; method: string };
        if (dropNext && req.socket.bytesRead > body.length + 200) {
          // a request on a reused connection: drop it unread, as a server that had closed it
          dropNext = false;
          req.socket.destroy();
          return;
        }
        received.push(request.method);
        const result =
          request.method === "eth_chainId" ? "0x7a69" : request.method === "eth_blockNumber" ? "0x1" : null;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ jsonrpc: "2.0", id: request.id, result }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("is sent again on a fresh connection and answered", async () => {
    const { provider } = await network.connect({ network: "localhost", override: { url, chainId: 31337 } });
    expect(await provider.request({ method: "eth_blockNumber" })).to.equal("0x1");
    received.length = 0;
    dropNext = true;
    expect(await provider.request({ method: "eth_blockNumber" })).to.equal("0x1");
    expect(dropNext, "the server did drop one request").to.equal(false);
    expect(received).to.deep.equal(["eth_blockNumber"]);
  });

  it("is not sent again when it is an eth_sendTransaction the node would number and sign twice", async () => {
    const { provider } = await network.connect({
      network: "localhost",
      // the node's own accounts: eth_sendTransaction goes to it as it is
      override: { url, chainId: 31337, accounts: "remote" },
    });
    expect(await provider.request({ method: "eth_blockNumber" })).to.equal("0x1");
    received.length = 0;
    dropNext = true;
    let failure: unknown;
    try {
      await provider.request({
        method: "eth_sendTransaction",
        params: [{ from: "0x" + "11".repeat(20), to: "0x" + "22".repeat(20), gas: "0x5208", gasPrice: "0x1" }],
      });
    } catch (error) {
      failure = error;
    }
    expect(String(failure)).to.match(/POST request|other side closed|socket/i);
    expect(received).to.deep.equal([]);
  });
});
