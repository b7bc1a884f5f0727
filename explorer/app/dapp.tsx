import { useMemo, useState } from "react";
import {
  createPublicClient,
  createWalletClient,
  erc20Abi,
  http,
  parseEther,
  type Address,
  type PublicClient,
  type WalletClient,
} from "viem";
import { useAccount, useConnect, useWalletClient } from "wagmi";
import { createVersatusClient, type WaitForResultReturnType } from "../../client/index.ts";
import { getJson, short, type Config } from "./api.ts";
import { chainsOf } from "./chains.ts";

type Step = { at: number; text: string; link?: string; testid?: string };

function describe(outcome: WaitForResultReturnType): string {
  if (outcome.kind === "dispersed")
    return `settled: dispersed (spent ${outcome.settlement?.spent ?? "?"} wei, refunded ${outcome.settlement?.refunded ?? "?"} wei${
      outcome.failedInstructions.length
        ? `, ${outcome.failedInstructions.length} instruction(s) failed and refunded`
        : ""
    })`;
  if (outcome.kind === "failed")
    return `settled: PROGRAM_ERROR, refunded (stderr: ${outcome.stderr ?? "see the explorer"})`;
  if (outcome.kind === "refunded") return `refunded ${outcome.amount} wei (no result before the deadline)`;
  return "expired: refundable";
}

/**
 * The example dApp: a wallet (injected, or on local chains the chain's own unlocked dev account,
 * so no key is in the page) requests a payout split and a token move between the two chains with
 * the project's client (client/index.ts), then shows each settle.
 */
export function DappPage({ config }: { config: Config }) {
  const chains = useMemo(() => chainsOf(config), [config]);
  const [a, b] = config.chains;
  const { connectors, connect } = useConnect();
  const account = useAccount();
  const { data: injectedWallet } = useWalletClient();
  const [dev, setDev] = useState<Address>();
  const [steps, setSteps] = useState<Step[]>([]);
  const [busy, setBusy] = useState(false);
  const [recipients, setRecipients] = useState(
    "0x000000000000000000000000000000000000dEaD:1, 0x000000000000000000000000000000000000bEEF:2",
  );
  const [value, setValue] = useState("0.01");
  const [moveAmount, setMoveAmount] = useState("5");
  const log = (s: Omit<Step, "at">) => setSteps((prev) => [...prev, { ...s, at: Date.now() }]);

  if (!a) return <p className="muted">no chain</p>;
  const chainA = chains[0];
  const publicA = createPublicClient({ chain: chainA, transport: http(), pollingInterval: 500 }) as PublicClient;

  const wallet: WalletClient | undefined = dev
    ? createWalletClient({ account: dev, chain: chainA, transport: http() })
    : (injectedWallet as WalletClient | undefined);
  const who = dev ?? account.address;

  const useDevAccount = async () => {
    const [first] = (await publicA.request({ method: "eth_accounts" } as never)) as Address[];
    if (first) setDev(first);
  };

  const versatus = () =>
    createVersatusClient({
      publicClient: publicA,
      walletClient: wallet,
      oracle: a.oracle,
      ingestor: a.ingestor,
      pollingIntervalMs: 500,
    });

  const run = async (what: () => Promise<void>) => {
    setBusy(true);
    try {
      await what();
    } catch (e) {
      log({ text: `error: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}` });
    } finally {
      setBusy(false);
    }
  };

  const payout = () =>
    run(async () => {
      const list = recipients.split(",").map((part) => {
        const [to, weight] = part.trim().split(":");
        return { to: to!, weight: Number(weight ?? 1) };
      });
      const client = versatus();
      log({ text: `requesting payout-splitter on ${a.name} with ${value} ETH` });
      const sent = await client.request({
        programName: "payout-splitter",
        input: JSON.stringify({ recipients: list }),
        ttl: 600,
        value: parseEther(value),
      });
      log({
        text: `request ${short(sent.requestId, 8)} in block ${sent.blockNumber}`,
        link: `#/requests/${a.chainId}/${sent.requestId}`,
        testid: "payout-request",
      });
      const outcome = await client.waitForResult({
        requestId: sent.requestId,
        fromBlock: sent.blockNumber,
        timeoutMs: 120_000,
      });
      log({ text: describe(outcome), link: `#/requests/${a.chainId}/${sent.requestId}`, testid: "payout-settled" });
    });

  const move = () =>
    run(async () => {
      if (!b || !a.omniToken) throw new Error("the token move needs two chains and the omni token");
      const client = versatus();
      const amount = parseEther(moveAmount);
      const held = await publicA.readContract({
        address: a.omniToken,
        abi: erc20Abi,
        functionName: "balanceOf",
        args: [who!],
      });
      if (held < amount)
        throw new Error(`this account holds ${held} of the omni token on ${a.name}, less than ${amount}`);
      log({ text: `requesting token-mover: ${moveAmount} omni tokens from ${a.name} to ${b.name}` });
      const sent = await client.request({
        programName: "token-mover",
        input: JSON.stringify({ destinationChainId: b.chainId }),
        ttl: 600,
        token: a.omniToken,
        amount,
      });
      log({
        text: `request ${short(sent.requestId, 8)}`,
        link: `#/requests/${a.chainId}/${sent.requestId}`,
        testid: "move-request",
      });
      const outcome = await client.waitForResult({
        requestId: sent.requestId,
        fromBlock: sent.blockNumber,
        timeoutMs: 120_000,
      });
      log({ text: `${a.name}: ${describe(outcome)} (burned)`, testid: "move-origin-settled" });
      for (let i = 0; i < 240; i++) {
        const d = await getJson<{ legs: { chainId: number; instructions: { outcome: string }[] }[] }>(
          `/api/requests/${a.chainId}/${sent.requestId}`,
        );
        const leg = d.legs.find((l) => l.chainId === b.chainId);
        if (leg) {
          log({
            text: `${b.name}: minted (${leg.instructions.map((ix) => ix.outcome).join(", ")})`,
            link: `#/requests/${a.chainId}/${sent.requestId}`,
            testid: "move-destination-settled",
          });
          return;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`no result on ${b.name} after 2 minutes`);
    });

  return (
    <>
      <h1>Example dApp</h1>
      <p className="muted">
        Uses the project's client (<span className="mono">client/</span>) with viem; source in{" "}
        <span className="mono">explorer/app/dapp.tsx</span>. Requests go to {a.name} ({a.chainId}).
      </p>
      <section>
        <h2>Wallet</h2>
        {who ? (
          <p>
            connected:{" "}
            <span className="mono" data-testid="account">
              {who}
            </span>{" "}
            {dev ? "(local dev account, signed by the chain)" : "(injected wallet)"}
          </p>
        ) : (
          <p>
            {connectors.map((c) => (
              <button key={c.uid} onClick={() => connect({ connector: c, chainId: a.chainId })}>
                Connect {c.name}
              </button>
            ))}{" "}
            {config.devAccounts && (
              <button data-testid="use-dev" onClick={() => void useDevAccount()}>
                Use a local dev account
              </button>
            )}
          </p>
        )}
      </section>
      <section>
        <h2>Payout split</h2>
        <form className="dapp" onSubmit={(e) => (e.preventDefault(), void payout())}>
          <label>recipients (address:weight, …)</label>
          <input value={recipients} onChange={(e) => setRecipients(e.target.value)} />
          <label>escrow (ETH, fee included)</label>
          <input value={value} onChange={(e) => setValue(e.target.value)} />
          <span />
          <button type="submit" disabled={!wallet || busy} data-testid="send-payout">
            Request payout split
          </button>
        </form>
      </section>
      {b && a.omniToken && (
        <section>
          <h2>
            Token move {a.name} → {b.name}
          </h2>
          <form className="dapp" onSubmit={(e) => (e.preventDefault(), void move())}>
            <label>omni tokens</label>
            <input value={moveAmount} onChange={(e) => setMoveAmount(e.target.value)} />
            <span />
            <button type="submit" disabled={!wallet || busy} data-testid="send-move">
              Move tokens
            </button>
          </form>
        </section>
      )}
      <h2>Progress</h2>
      <ol className="log">
        {steps.map((s, i) => (
          <li key={i} data-testid={s.testid}>
            <span className="muted small">{new Date(s.at).toLocaleTimeString()}</span>{" "}
            {s.link ? <a href={s.link}>{s.text}</a> : s.text}
          </li>
        ))}
      </ol>
    </>
  );
}
