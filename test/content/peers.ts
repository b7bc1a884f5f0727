import { generateKeyPair } from "@libp2p/crypto/keys";
import { ContentNode, type ContentNodeOptions } from "../../content/node.ts";
import { createVersatusLibp2p, type VersatusLibp2p } from "../../network/libp2pNode.ts";

export type ContentPeer = { libp2p: VersatusLibp2p; content: ContentNode };

/**
 * A content node on its own real libp2p node on loopback, dialled to every peer already in
 * `peers` (a small full mesh, as network/ keeps among operators), then added to `peers`.
 */
export async function startContentPeer(
  peers: ContentPeer[],
  options: Omit<ContentNodeOptions, "libp2p">,
): Promise<ContentPeer> {
  const libp2p = await createVersatusLibp2p({
    network: options.network,
    privateKey: await generateKeyPair("Ed25519"),
    listen: ["/ip4/127.0.0.1/tcp/0"],
    bootstrap: [],
    gossip: {},
    isBanned: () => false,
    maxConnections: 16,
  });
  const content = await ContentNode.start({ ...options, libp2p });
  for (const other of peers) await libp2p.dial(other.libp2p.getMultiaddrs()[0]!);
  const peer = { libp2p, content };
  peers.push(peer);
  return peer;
}

/** Stops a peer's content node, then its libp2p node. */
export async function stopContentPeer(peer: ContentPeer): Promise<void> {
  await peer.content.close();
  await peer.libp2p.stop();
}
