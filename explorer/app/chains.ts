import { defineChain, http, type Chain } from "viem";
import { createConfig } from "wagmi";
import { injected } from "wagmi/connectors";
import type { Config } from "./api.ts";

/** Every chain of the network, read through the explorer's /rpc/<chainId> pass-through. */
export function chainsOf(config: Config): [Chain, ...Chain[]] {
  return config.chains.map((c) =>
    defineChain({
      id: c.chainId,
      name: c.name,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [`${window.location.origin}/rpc/${c.chainId}`] } },
    }),
  ) as unknown as [Chain, ...Chain[]];
}

export function wagmiConfigFor(config: Config) {
  const chains = chainsOf(config);
  return createConfig({
    chains,
    connectors: [injected()],
    transports: Object.fromEntries(chains.map((c) => [c.id, http(c.rpcUrls.default.http[0])])),
    pollingInterval: 1000,
  });
}
