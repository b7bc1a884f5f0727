import { createSocket, type Socket } from "node:dgram";
import { connect } from "node:net";
import { decode, encode, type Answer, type DecodedPacket, type Packet } from "dns-packet";
import type { NetworkConnection } from "hardhat/types/network";
import { ethers as E } from "ethers";

/** A dns-packet client: one query over UDP (undefined when no answer comes within `timeoutMs`). */
export async function queryUdp(
  port: number,
  packet: Packet | Buffer,
  timeoutMs = 2_000,
): Promise<{ raw: Buffer; packet: DecodedPacket } | undefined> {
  const message = Buffer.isBuffer(packet) ? packet : encode({ type: "query", ...packet });
  const socket = createSocket("udp4");
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      socket.on("error", reject);
      socket.on("message", (raw) => {
        clearTimeout(timer);
        resolve({ raw, packet: decode(raw) });
      });
      socket.send(message, port, "127.0.0.1");
    });
  } finally {
    socket.close();
  }
}

/** One query over TCP (2-byte length framing), the whole answer. */
export async function queryTcp(port: number, packet: Packet | Buffer, timeoutMs = 5_000): Promise<DecodedPacket> {
  const message = Buffer.isBuffer(packet) ? packet : encode({ type: "query", ...packet });
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("no TCP answer"));
    }, timeoutMs);
    let received = Buffer.alloc(0);
    socket.on("data", (data) => {
      received = Buffer.concat([received, data]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.end();
        resolve(decode(received.subarray(2, 2 + received.readUInt16BE(0))));
      }
    });
    socket.on("error", reject);
    socket.write(Buffer.concat([length, message]));
  });
}

export const question = (name: string, type: "A" | "AAAA" | "TXT" = "A", id = 4242): Packet => ({
  id,
  flags: 0x100, // RD
  questions: [{ type, name, class: "IN" }],
});

/** The text of every TXT answer. */
export const texts = (packet: DecodedPacket) =>
  (packet.answers ?? [])
    .filter((a): a is Answer & { data: Buffer[] } => a.type === "TXT")
    .map((a) => a.data.map((d) => d.toString()).join(""));

/** The data of every answer (an address for A/AAAA). */
export const values = (packet: DecodedPacket) =>
  (packet.answers ?? []).map((a) => (a.type === "OPT" ? undefined : (a as { data: unknown }).data));

/** The TTL of every answer. */
export const ttls = (packet: DecodedPacket) => (packet.answers ?? []).map((a) => (a as { ttl?: number }).ttl);

export const rcodeOf = (packet: DecodedPacket) => (packet as { rcode?: string }).rcode;

/**
 * A stand-in for an ordinary DNS server (the web2 side): answers every A question with `address`
 * and counts what it was asked.
 */
export async function startFakeUpstream(address = "93.184.216.34"): Promise<{
  port: number;
  asked: string[];
  close: () => Promise<void>;
}> {
  const socket: Socket = createSocket("udp4");
  const asked: string[] = [];
  socket.on("message", (raw, from) => {
    const query = decode(raw);
    const q = query.questions![0]!;
    asked.push(`${q.name} ${q.type}`);
    const answers: Answer[] = q.type === "A" ? [{ type: "A", name: q.name, ttl: 300, class: "IN", data: address }] : [];
    socket.send(
      encode({ id: query.id!, type: "response", flags: 0x100 | 0x80, questions: query.questions!, answers }),
      from.port,
      from.address,
    );
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  return {
    port: socket.address().port,
    asked,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** Deploys a NameRegistry (suffix `versatus`, reveal after 1 s) on an in-process chain. */
export async function deployNameRegistry(connection: NetworkConnection) {
  const { ethers } = connection;
  const [owner, other] = await ethers.getSigners();
  const registry = await ethers.deployContract("NameRegistry", ["versatus", 1, 3_600, 31_536_000]);
  await registry.waitForDeployment();
  const address = (await registry.getAddress()) as `0x${string}`;
  const secret = E.id("test secret");

  /** Registers `name` for the first signer by commit, a chain-time wait, and reveal. */
  const register = async (name: string) => {
    await (await registry.commit(await registry.makeCommitment(name, owner!.address, secret))).wait();
    await connection.provider.request({ method: "evm_increaseTime", params: [2] });
    await connection.provider.request({ method: "evm_mine", params: [] });
    await (await registry.register(name, owner!.address, secret)).wait();
  };
  return { registry, address, owner: owner!, other: other!, register };
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
