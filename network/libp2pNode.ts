import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { bootstrap } from "@libp2p/bootstrap";
import {
  gossipsub,
  type GossipSub,
  type GossipSubComponents,
  type GossipsubOpts,
  type TopicValidatorResult,
} from "@libp2p/gossipsub";
import { identify, type Identify } from "@libp2p/identify";
import type { ConnectionGater, PeerId, PrivateKey } from "@libp2p/interface";
import { kadDHT, passthroughMapper, type KadDHT } from "@libp2p/kad-dht";
import { ping, type Ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { webSockets } from "@libp2p/websockets";
import { createLibp2p, type Libp2p } from "libp2p";
import { MAX_GOSSIP_MESSAGE_BYTES } from "../protocol/gossip.ts";

/**
 * The libp2p node of an operator: TCP and WebSockets, Noise, Yamux, identify, ping, gossipsub and
 * a Kademlia DHT under the network's own protocol prefix (peer discovery only, no records), plus
 * the bootstrap list. It knows nothing of bindings or messages: network/index.ts adds those.
 */

/**
 * What network/ uses of the gossipsub class beyond its exported interface (the class has these
 * public methods; @libp2p/gossipsub 17 exports only the narrower interface type).
 */
export type GossipSubService = GossipSub & {
  getScore(peerId: string): number;
  getMeshPeers(topic: string): string[];
  reportMessageValidationResult(msgId: string, propagationSource: string, acceptance: TopicValidatorResult): void;
};

export type VersatusServices = { identify: Identify; ping: Ping; pubsub: GossipSubService; dht: KadDHT };
export type VersatusLibp2p = Libp2p<VersatusServices>;

export type Libp2pNodeOptions = {
  network: string;
  privateKey: PrivateKey;
  listen: string[];
  bootstrap: string[];
  gossip: Partial<GossipsubOpts>;
  /** Peers refused (score-banned); checked on every dial and inbound connection. */
  isBanned: (peer: PeerId) => boolean;
  maxConnections: number;
};

export async function createVersatusLibp2p(options: Libp2pNodeOptions): Promise<VersatusLibp2p> {
  const gater: ConnectionGater = {
    denyDialPeer: (peer) => options.isBanned(peer),
    denyInboundEncryptedConnection: (peer) => options.isBanned(peer),
    denyOutboundEncryptedConnection: (peer) => options.isBanned(peer),
    // Loopback and private addresses are what a devnet and a LAN use.
    denyDialMultiaddr: () => false,
  };
  return createLibp2p<VersatusServices>({
    privateKey: options.privateKey,
    addresses: { listen: options.listen },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: gater,
    // The monitor pings every connection and aborts it when a ping times out: on a busy machine
    // (a devnet, 16 nodes on 2 cores) that closed healthy connections en masse, and reconnecting
    // made it busier. A dead TCP connection still closes on its own; the ping is kept for RTTs.
    connectionMonitor: { abortConnectionOnPingFailure: false },
    connectionManager: {
      maxConnections: options.maxConnections,
      dialTimeout: 10_000,
      // libp2p's defaults (5 inbound connections per second per host, 10 pending) starve a devnet
      // whose nodes all dial from 127.0.0.1 and a LAN behind one NAT; the peers that stay are
      // bound and scored anyway.
      inboundConnectionThreshold: options.maxConnections,
      maxIncomingPendingConnections: options.maxConnections,
    },
    peerDiscovery: options.bootstrap.length > 0 ? [bootstrap({ list: options.bootstrap, timeout: 10 })] : [],
    nodeInfo: { name: "versatus", version: "1" },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        maxInboundDataLength: MAX_GOSSIP_MESSAGE_BYTES + 64 * 1024,
        ...options.gossip,
      }) as unknown as (components: GossipSubComponents) => GossipSubService,
      dht: kadDHT({
        protocol: `/versatus/${options.network}/kad/1.0.0`,
        clientMode: false,
        // Tests and devnets start many nodes: find each other fast.
        initialQuerySelfInterval: 100,
        allowQueryWithZeroPeers: false,
        // Operators on a LAN or one machine (devnet) have private addresses: keep them.
        peerInfoMapper: passthroughMapper,
      }),
    },
  });
}
