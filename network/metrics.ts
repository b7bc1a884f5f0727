import { Counter, Gauge, type Registry } from "prom-client";

/** Prometheus metrics of one node's p2p layer (registered on the service's own registry). */
export type NetworkMetrics = {
  messages: Counter<"kind" | "verdict" | "reason">;
  peers: Gauge<"state">;
};

export function networkMetrics(registry: Registry): NetworkMetrics {
  return {
    messages: new Counter({
      name: "versatus_network_messages_total",
      help: "Gossip messages validated, by kind (request, result, backpressure, share, binding), verdict and reason",
      labelNames: ["kind", "verdict", "reason"],
      registers: [registry],
    }),
    peers: new Gauge({
      name: "versatus_network_peers",
      help: "Connected peers, by state (bound: bound to an active address; unbound; banned: refused for now)",
      labelNames: ["state"],
      registers: [registry],
    }),
  };
}
