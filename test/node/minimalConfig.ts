/** The smallest valid `versatus node` config (a fresh object each call, for tests to change). */
export const minimalNodeConfig = () => ({
  network: { name: "devnet", peerKeyFile: "/tmp/peer.key" },
  roles: ["relay", "compute", "collect", "post"],
  chains: [
    {
      chainId: 31337,
      rpcUrl: "http://127.0.0.1:8545",
      oracle: "0x0000000000000000000000000000000000000001",
      ingestor: "0x0000000000000000000000000000000000000002",
    },
  ],
  programs: { dirs: ["programs"] },
});
