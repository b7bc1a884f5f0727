import { createSocket } from "node:dgram";
import { isIPv6 } from "node:net";

/**
 * Forwards one DNS query over UDP to the configured upstream resolver (the web2 fallback) and
 * resolves with its raw answer. Each query uses its own socket (a fresh random source port) and
 * accepts only a reply from the upstream's address with the query's id.
 */
export async function forwardUdp(
  query: Buffer,
  upstream: { host: string; port: number; timeoutMs: number },
): Promise<Buffer> {
  const socket = createSocket(isIPv6(upstream.host) ? "udp6" : "udp4");
  const id = query.readUInt16BE(0);
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`upstream ${upstream.host}:${upstream.port} did not answer within ${upstream.timeoutMs} ms`),
          ),
        upstream.timeoutMs,
      );
      socket.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.on("message", (message, from) => {
        if (from.address !== upstream.host && !from.address.endsWith(`:${upstream.host}`)) return;
        if (message.length < 12 || message.readUInt16BE(0) !== id) return;
        clearTimeout(timer);
        resolve(message);
      });
      socket.send(query, upstream.port, upstream.host);
    });
  } finally {
    socket.close();
  }
}
