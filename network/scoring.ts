import type { PeerScoreParams, PeerScoreThresholds, TopicScoreParams } from "@libp2p/gossipsub/score";

/**
 * Gossipsub peer scoring for a small, staked, permissioned mesh (after Lodestar's
 * scoringParameters.ts, much simplified). What moves a score:
 * - P4, invalid messages: every message this node's validator rejects costs its sender
 *   `invalidMessageWeight` times the square of its (decaying) count on that topic: -10, -40,
 *   -90 for 1, 2, 3 rejects, so three rejected messages cross the graylist threshold;
 * - P5, the application score: -100 for a peer bound to an address outside the active set, or
 *   still unbound `bindingGraceMs` after it connected, and `PENALTY_PER_VIOLATION` per message it
 *   sent over its rate or while unbound/inactive (decaying, see `Penalties`; network/index.ts
 *   computes it);
 * - small positive P1/P2 (time in mesh, first deliveries) capped by `topicScoreCap`, so good
 *   behaviour cannot bank enough credit to flood later.
 * Mesh-delivery penalties (P3, P3b) are off: request traffic is bursty and sparse, and an idle
 * honest peer must not lose score. IP colocation (P6) is off: devnets and operators behind one NAT
 * share an address. Thresholds: below `gossipThreshold` no gossip is exchanged, below
 * `publishThreshold` our own messages skip the peer, below `graylistThreshold` everything it sends
 * is ignored; network/ also disconnects and bans a graylisted peer for a while.
 */

export const SCORE_THRESHOLDS: PeerScoreThresholds = {
  gossipThreshold: -10,
  publishThreshold: -40,
  graylistThreshold: -80,
  acceptPXThreshold: 5,
  opportunisticGraftThreshold: 2,
};

const INVALID_MESSAGE_WEIGHT = -10;

function topicParams(): TopicScoreParams {
  return {
    topicWeight: 1,
    timeInMeshWeight: 0.05,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 100,
    firstMessageDeliveriesWeight: 0.2,
    firstMessageDeliveriesDecay: 0.9,
    firstMessageDeliveriesCap: 25,
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: 0.9,
    meshMessageDeliveriesCap: 1,
    meshMessageDeliveriesThreshold: 1,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 60_000,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: 0.9,
    invalidMessageDeliveriesWeight: INVALID_MESSAGE_WEIGHT,
    // Per decay interval (1 s): the count halves in about a minute.
    invalidMessageDeliveriesDecay: 0.99,
  };
}

export function peerScoreParams(
  topics: readonly string[],
  appSpecificScore: (peerId: string) => number,
): PeerScoreParams {
  return {
    topics: Object.fromEntries(topics.map((topic) => [topic, topicParams()])),
    topicScoreCap: 10,
    appSpecificScore,
    appSpecificWeight: 1,
    IPColocationFactorWeight: 0,
    IPColocationFactorThreshold: 10,
    IPColocationFactorWhitelist: new Set(),
    behaviourPenaltyWeight: -1,
    behaviourPenaltyThreshold: 5,
    behaviourPenaltyDecay: 0.9,
    decayInterval: 1000,
    decayToZero: 0.01,
    retainScore: 10 * 60_000,
  };
}

/** The application score (P5) of a peer that must not take part: sinks it below the graylist. */
export const UNBOUND_PEER_SCORE = -100;

/** Application-score cost of one message over the rate (or from an unbound/inactive origin). */
export const PENALTY_PER_VIOLATION = -5;
const PENALTY_FLOOR = -400;

/**
 * Decaying per-peer penalties for what only this node can judge (see network/validation.ts): each
 * violation costs PENALTY_PER_VIOLATION, halving every `halfLifeMs`, floored at -400.
 */
export class Penalties {
  private readonly byPeer = new Map<string, { value: number; at: number }>();
  private readonly halfLifeMs: number;

  constructor(halfLifeMs = 60_000) {
    this.halfLifeMs = halfLifeMs;
  }

  add(peerId: string, now = Date.now()): void {
    const value = Math.max(PENALTY_FLOOR, this.get(peerId, now) + PENALTY_PER_VIOLATION);
    this.byPeer.set(peerId, { value, at: now });
  }

  get(peerId: string, now = Date.now()): number {
    const entry = this.byPeer.get(peerId);
    if (!entry) return 0;
    const value = entry.value * 0.5 ** ((now - entry.at) / this.halfLifeMs);
    if (value > -0.5) {
      this.byPeer.delete(peerId);
      return 0;
    }
    return value;
  }
}
