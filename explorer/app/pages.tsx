import { eth, short, usePoll, type Config } from "./api.ts";

type RequestRow = {
  chainId: number;
  requestId: string;
  programId: string;
  program: string | null;
  requester: string;
  token: string;
  amount: string;
  blockNumber: string;
  requestedAt: number;
  state: string;
  latencyS: number | null;
  latencyBlocks: number | null;
};

const ZERO = "0x0000000000000000000000000000000000000000";
const blocks = (n: number | null) => (n === 1 ? "1 block" : `${n ?? 0} blocks`);
const asset = (token: string, amount: string) =>
  token === ZERO ? `${eth(amount)} ETH` : `${eth(amount)} of ${short(token, 4)}`;

function State({ state }: { state: string }) {
  return (
    <span className={`state state-${state}`} data-testid="state">
      {state}
    </span>
  );
}

function ChainRequests({ chain }: { chain: Config["chains"][number] }) {
  const { data, error } = usePoll<RequestRow[]>(`/api/requests/${chain.chainId}`);
  return (
    <section>
      <h2>
        {chain.name} <span className="muted">chain {chain.chainId}</span>
      </h2>
      {error && <p className="error">{error}</p>}
      {!data ? (
        <p className="muted">loading…</p>
      ) : data.length === 0 ? (
        <p className="muted">no requests yet</p>
      ) : (
        <table data-testid={`requests-${chain.chainId}`}>
          <thead>
            <tr>
              <th>request</th>
              <th>program</th>
              <th>requester</th>
              <th>escrow</th>
              <th>requested</th>
              <th>status</th>
              <th>latency</th>
            </tr>
          </thead>
          <tbody>
            {data.map((r) => (
              <tr key={r.requestId}>
                <td>
                  <a href={`#/requests/${r.chainId}/${r.requestId}`} className="mono">
                    {short(r.requestId, 8)}
                  </a>
                </td>
                <td>{r.program ?? short(r.programId)}</td>
                <td className="mono">{short(r.requester, 4)}</td>
                <td>{asset(r.token, r.amount)}</td>
                <td>{new Date(r.requestedAt * 1000).toLocaleTimeString()}</td>
                <td>
                  <State state={r.state} />
                </td>
                <td>{r.latencyS === null ? "–" : `${r.latencyS} s (${blocks(r.latencyBlocks)})`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function RequestsPage({ config }: { config: Config }) {
  return (
    <>
      <h1>Requests</h1>
      <p className="muted">Live from each chain's oracle and ingestor (latency: request block to settling block).</p>
      {config.chains.map((c) => (
        <ChainRequests key={c.chainId} chain={c} />
      ))}
    </>
  );
}

type Leg = {
  chainId: number;
  txHash: string;
  blockNumber: string;
  status: number;
  bodyHash: string;
  daPointer: string;
  signatures: { signer: string; signature: string }[];
  instructions: { op: string; target: string; amount: string; data: string; outcome: string }[];
  settlement: { spent: string; fee: string; refunded: string } | null;
};
type Detail = RequestRow & {
  input: string;
  inputText: string | null;
  deadline: number;
  quorum: { members: string[]; standby: string[] };
  legs: Leg[];
  record: {
    body: Record<string, unknown>;
    signatures: { chainId: string; signer: string; signature: string }[];
  } | null;
  recordError: string | null;
  stdout: string | null;
  stderr: string | null;
};

export function RequestPage({ config, chainId, requestId }: { config: Config; chainId: number; requestId: string }) {
  const { data: d, error } = usePoll<Detail>(`/api/requests/${chainId}/${requestId}`);
  const chainName = (id: number) => config.chains.find((c) => c.chainId === id)?.name ?? `chain ${id}`;
  if (error) return <p className="error">{error}</p>;
  if (!d) return <p className="muted">loading…</p>;
  const signed = new Set(d.legs.flatMap((l) => l.signatures.map((s) => s.signer.toLowerCase())));
  return (
    <>
      <h1>
        Request <span className="mono small">{d.requestId}</span>
      </h1>
      <dl className="facts">
        <dt>status</dt>
        <dd>
          <State state={d.state} />{" "}
          {d.latencyS !== null && (
            <span>
              in {d.latencyS} s ({blocks(d.latencyBlocks)})
            </span>
          )}
        </dd>
        <dt>origin</dt>
        <dd>
          {chainName(d.chainId)} ({d.chainId}), block {String(d.blockNumber)}
        </dd>
        <dt>program</dt>
        <dd>
          {d.program ?? "(unnamed)"} <span className="mono small">{d.programId}</span>
        </dd>
        <dt>requester</dt>
        <dd className="mono">{d.requester}</dd>
        <dt>escrow</dt>
        <dd>{asset(d.token, d.amount)}</dd>
        <dt>deadline</dt>
        <dd>{new Date(d.deadline * 1000).toLocaleString()}</dd>
        <dt>input</dt>
        <dd>
          <pre data-testid="input">{d.inputText ?? d.input}</pre>
        </dd>
        <dt>quorum</dt>
        <dd>
          {d.quorum.members.length === 0 ? (
            <span className="muted">no staked operator set on this chain</span>
          ) : (
            <ul className="plain">
              {d.quorum.members.map((m) => (
                <li key={m} className="mono">
                  {m}{" "}
                  {signed.has(m.toLowerCase()) ? (
                    <span className="ok">signed</span>
                  ) : (
                    <span className="muted">did not sign</span>
                  )}
                </li>
              ))}
              {d.quorum.standby.map((m) => (
                <li key={m} className="mono muted">
                  {m} standby {signed.has(m.toLowerCase()) && <span className="ok">signed (stole the work)</span>}
                </li>
              ))}
            </ul>
          )}
        </dd>
      </dl>
      <h2>Settlement{d.legs.length > 1 ? "s (cross-chain legs)" : ""}</h2>
      {d.legs.length === 0 && <p className="muted">no result ingested yet</p>}
      {d.legs.map((leg) => (
        <section key={leg.chainId} className="leg" data-testid={`leg-${leg.chainId}`}>
          <h3>
            {chainName(leg.chainId)} ({leg.chainId}) {leg.chainId === d.chainId ? "origin" : "destination"}:{" "}
            {leg.status === 0 ? "OK" : "PROGRAM_ERROR"}
          </h3>
          <p className="small">
            ingested in <span className="mono">{short(leg.txHash, 10)}</span>, block {leg.blockNumber}; body hash{" "}
            <span className="mono">{short(leg.bodyHash, 8)}</span>
            {leg.settlement &&
              ` · spent ${eth(leg.settlement.spent)}, fee ${eth(leg.settlement.fee)}, refunded ${eth(leg.settlement.refunded)}`}
          </p>
          <table>
            <thead>
              <tr>
                <th>#</th>
                <th>op</th>
                <th>target</th>
                <th>amount</th>
                <th>settled</th>
              </tr>
            </thead>
            <tbody>
              {leg.instructions.map((ix, i) => (
                <tr key={i}>
                  <td>{i}</td>
                  <td>{ix.op}</td>
                  <td className="mono">{short(ix.target, 6)}</td>
                  <td>{eth(ix.amount)}</td>
                  <td>{ix.outcome}</td>
                </tr>
              ))}
              {leg.instructions.length === 0 && (
                <tr>
                  <td colSpan={5} className="muted">
                    no instructions
                  </td>
                </tr>
              )}
            </tbody>
          </table>
          <h4>Signatures ({leg.signatures.length})</h4>
          <ul className="plain small">
            {leg.signatures.map((s) => (
              <li key={s.signature} className="mono">
                {s.signer}: {short(s.signature, 12)}
              </li>
            ))}
          </ul>
        </section>
      ))}
      <h2>Execution record (DA)</h2>
      {d.record ? (
        <>
          <p className="small">
            pointer <span className="mono">{short(d.legs[0]?.daPointer ?? "", 12)}</span>
          </p>
          <h4>stdout</h4>
          <pre data-testid="stdout">{d.stdout ?? String(d.record.body.stdout)}</pre>
          <h4>stderr</h4>
          <pre data-testid="stderr">{d.stderr || "(empty)"}</pre>
          <details>
            <summary>record body</summary>
            <pre>{JSON.stringify(d.record.body, null, 2)}</pre>
          </details>
        </>
      ) : (
        <p className="muted">{d.recordError ?? (d.legs.length ? "no record" : "not yet")}</p>
      )}
    </>
  );
}

type Program = {
  name: string;
  runs: number;
  versions: {
    programId: string;
    chainId: number;
    publisher: string;
    uri: string;
    block: string;
    version: string | null;
    language: string | null;
  }[];
};

export function ProgramsPage() {
  const { data, error } = usePoll<Program[]>("/api/programs", 5000);
  if (error) return <p className="error">{error}</p>;
  return (
    <>
      <h1>Programs</h1>
      <table data-testid="programs">
        <thead>
          <tr>
            <th>name</th>
            <th>versions (version, programId, chain, block)</th>
            <th>language</th>
            <th>published as</th>
            <th>runs</th>
          </tr>
        </thead>
        <tbody>
          {(data ?? []).map((p) => (
            <tr key={p.name}>
              <td>{p.name}</td>
              <td>
                {p.versions.map((v) => (
                  <div key={`${v.chainId}-${v.programId}`} className="mono small">
                    {v.version ?? "?"} · {short(v.programId, 8)} · {v.chainId} · #{v.block}
                  </div>
                ))}
              </td>
              <td>{[...new Set(p.versions.map((v) => v.language ?? "not in the store"))].join(", ")}</td>
              <td className="small">{p.versions[0]?.uri}</td>
              <td>{p.runs}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

type Member = {
  account: string;
  index: number | null;
  registered: boolean;
  active: boolean;
  bonded: string;
  unbonding: string;
  slashable: string;
  requiredStake: string;
  reputationBps: number;
  watcherWeight: string;
};
type Staking = {
  chainId: number;
  threshold: string;
  curve: { base: string; floor: string; alphaBps: number };
  operators: Member[];
  watchers: Member[];
  slashes: { kind: string; account: string; amount: string; requestId: string | null; blockNumber: string }[];
};

/**
 * The required-stake curve as the registry defines it (StakingRegistry._required): display only,
 * the contract decides; max(floor, base × (1 − alpha × reputation)).
 */
function CurveChart({ curve, points }: { curve: Staking["curve"]; points: { rep: number; label: string }[] }) {
  const W = 460;
  const H = 200;
  const L = 52;
  const T = 30;
  const B = 34;
  const R = 20;
  const base = Number(BigInt(curve.base) / 10n ** 12n) / 1e6;
  const floor = Number(BigInt(curve.floor) / 10n ** 12n) / 1e6;
  const req = (rep: number) => Math.max(floor, base * (1 - (curve.alphaBps / 10_000) * (rep / 10_000)));
  const x = (rep: number) => L + (rep / 10_000) * (W - L - R);
  const y = (v: number) => H - B - (v / (base || 1)) * (H - T - B);
  const path = Array.from({ length: 51 }, (_, i) => (i * 10_000) / 50)
    .map((rep, i) => `${i ? "L" : "M"}${x(rep).toFixed(1)},${y(req(rep)).toFixed(1)}`)
    .join(" ");
  // operators at the same reputation share one dot
  const groups = new Map<number, string[]>();
  for (const p of points) groups.set(p.rep, [...(groups.get(p.rep) ?? []), p.label]);
  return (
    <svg width={W} height={H} className="chart" data-testid="curve">
      <text x={8} y={16} fontSize={11}>
        required stake (ETH) = max(floor {floor}, base {base} × (1 − {curve.alphaBps / 100}% × reputation))
      </text>
      <line x1={L} y1={H - B} x2={W - R} y2={H - B} stroke="#999" />
      <line x1={L} y1={T} x2={L} y2={H - B} stroke="#999" />
      {[base, floor].map((v) => (
        <g key={v}>
          <line x1={L - 4} y1={y(v)} x2={W - R} y2={y(v)} stroke="#eee" />
          <text x={L - 6} y={y(v) + 4} fontSize={10} textAnchor="end">
            {v}
          </text>
        </g>
      ))}
      <path d={path} fill="none" stroke="#2563eb" strokeWidth={2} />
      {[...groups.entries()].map(([rep, labels]) => (
        <g key={rep}>
          <circle cx={x(rep)} cy={y(req(rep))} r={4} fill="#dc2626" />
          <text x={x(rep) + 7} y={y(req(rep)) + 14} fontSize={10}>
            {labels.join(" ")}
          </text>
        </g>
      ))}
      <text x={L} y={H - 12} fontSize={11}>
        reputation 0
      </text>
      <text x={W - R} y={H - 12} fontSize={11} textAnchor="end">
        100%
      </text>
    </svg>
  );
}

function MemberTable({ rows, watchers }: { rows: Member[]; watchers?: boolean }) {
  return (
    <table data-testid={watchers ? "watchers" : "stake-table"}>
      <thead>
        <tr>
          <th>account</th>
          {!watchers && <th>index</th>}
          <th>state</th>
          <th>bonded</th>
          <th>unbonding</th>
          <th>slashable</th>
          {watchers ? <th>weight</th> : <th>required</th>}
          {!watchers && <th>reputation</th>}
        </tr>
      </thead>
      <tbody>
        {rows.map((m) => (
          <tr key={m.account}>
            <td className="mono">{m.account}</td>
            {!watchers && <td>{m.index ?? "–"}</td>}
            <td>{watchers ? "watching" : m.active ? "active" : m.registered ? "inactive" : "gone"}</td>
            <td>{eth(m.bonded)}</td>
            <td>{eth(m.unbonding)}</td>
            <td>{eth(m.slashable)}</td>
            {watchers ? <td>{eth(m.watcherWeight)}</td> : <td>{eth(m.requiredStake)}</td>}
            {!watchers && <td>{(m.reputationBps / 100).toFixed(2)}%</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function OperatorsPage({ config }: { config: Config }) {
  const { data, error } = usePoll<Staking[]>("/api/staking", 4000);
  if (error) return <p className="error">{error}</p>;
  if (!data) return <p className="muted">loading…</p>;
  if (data.length === 0) return <p className="muted">no HoneSTake registry on these chains</p>;
  return (
    <>
      <h1>Operators and watchers</h1>
      {data.map((s) => (
        <section key={s.chainId}>
          <h2>
            {config.chains.find((c) => c.chainId === s.chainId)?.name} <span className="muted">chain {s.chainId}</span>{" "}
            <span className="small">threshold {s.threshold}</span>
          </h2>
          <MemberTable rows={s.operators} />
          <h3>Required stake by reputation</h3>
          <CurveChart
            curve={s.curve}
            points={s.operators.map((o) => ({ rep: o.reputationBps, label: `#${o.index ?? "?"}` }))}
          />
          <h3>Watchers</h3>
          {s.watchers.length ? <MemberTable rows={s.watchers} watchers /> : <p className="muted">none</p>}
          <h3>Slashes</h3>
          {s.slashes.length === 0 ? (
            <p className="muted">none</p>
          ) : (
            <table>
              <tbody>
                {s.slashes.map((x, i) => (
                  <tr key={i}>
                    <td>{x.kind}</td>
                    <td className="mono">{x.account}</td>
                    <td>{eth(x.amount)} ETH</td>
                    <td className="mono">{x.requestId ? short(x.requestId, 8) : ""}</td>
                    <td>block {x.blockNumber}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ))}
    </>
  );
}

type Dispute = {
  disputeId: string;
  requestId: string;
  originChainId: number;
  kind: string;
  state: string;
  challenger: string;
  accused: string[];
  bond: string;
  votes: { voter: string; upholds: boolean; weight: string }[];
  slashed: string | null;
  challengerReward: string | null;
};

export function DisputesPage() {
  const { data, error } = usePoll<Dispute[]>("/api/disputes", 4000);
  if (error) return <p className="error">{error}</p>;
  return (
    <>
      <h1>Disputes</h1>
      {!data?.length ? (
        <p className="muted">no disputes</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>#</th>
              <th>request</th>
              <th>claim</th>
              <th>challenger</th>
              <th>accused</th>
              <th>votes</th>
              <th>outcome</th>
            </tr>
          </thead>
          <tbody>
            {data.map((d) => (
              <tr key={`${d.originChainId}-${d.disputeId}`}>
                <td>{d.disputeId}</td>
                <td>
                  <a href={`#/requests/${d.originChainId}/${d.requestId}`} className="mono">
                    {short(d.requestId, 8)}
                  </a>
                </td>
                <td>{d.kind}</td>
                <td className="mono">{short(d.challenger, 4)}</td>
                <td className="mono small">{d.accused.map((a) => short(a, 4)).join(", ")}</td>
                <td className="small">
                  {d.votes
                    .map((v) => `${short(v.voter, 4)} ${v.upholds ? "upholds" : "rejects"} (${eth(v.weight)})`)
                    .join("; ") || "–"}
                </td>
                <td>
                  <State state={d.state.toLowerCase()} />
                  {d.slashed && ` slashed ${eth(d.slashed)} ETH, reward ${eth(d.challengerReward ?? "0")}`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

type QueueCounts = { name: string; counts: Record<string, number> }[] | null;

export function QueuesPage({ config }: { config: Config }) {
  const { data, error } = usePoll<QueueCounts>("/api/queues", 2000);
  if (!config.queues) return <p className="muted">No Redis given to the explorer (start it with --redis).</p>;
  if (error) return <p className="error">{error}</p>;
  return (
    <>
      <h1>Queue health</h1>
      <p>
        The operator's own BullMQ queues. <a href="/queues/">Open Bull Board</a> (read-only) for jobs and errors.
      </p>
      <table data-testid="queues">
        <thead>
          <tr>
            <th>queue</th>
            <th>waiting</th>
            <th>active</th>
            <th>delayed</th>
            <th>failed</th>
            <th>completed</th>
          </tr>
        </thead>
        <tbody>
          {(data ?? []).map((q) => (
            <tr key={q.name}>
              <td className="mono">{q.name}</td>
              <td>{(q.counts.waiting ?? 0) + (q.counts.prioritized ?? 0)}</td>
              <td>{q.counts.active}</td>
              <td>{q.counts.delayed}</td>
              <td className={q.counts.failed ? "error" : ""}>{q.counts.failed}</td>
              <td>{q.counts.completed}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
