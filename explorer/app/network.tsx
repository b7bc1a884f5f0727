import type { NodeView } from "../nodes.ts";
import { short, usePoll, type Config } from "./api.ts";

/** GET /api/network (explorer/nodes.ts `readNetwork`). */
type NetworkAnswer = { readAt: number; nodes: NodeView[] };
type ReachedNode = Extract<NodeView, { ok: true }>;
type Program = { name: string; versions: { programId: string }[] };

/** 15000 bps -> "1.5×" (the quote over the base fee). */
const multiplier = (bps: number) => `${(bps / 10_000).toLocaleString("en-US", { maximumFractionDigits: 4 })}×`;
const ms = (value: number) =>
  value >= 10_000 ? `${(value / 1000).toLocaleString("en-US", { maximumFractionDigits: 1 })} s` : `${value} ms`;
const time = (atMs: number) => new Date(atMs).toLocaleTimeString("en-GB", { hour12: false });

function useProgramNames(): (programId: string) => string {
  const { data } = usePoll<Program[]>("/api/programs", 15_000);
  const names = new Map<string, string>();
  for (const p of data ?? []) for (const v of p.versions) names.set(v.programId.toLowerCase(), p.name);
  return (programId) => names.get(programId.toLowerCase()) ?? short(programId, 6);
}

function Autoscale({ node, nameOf }: { node: ReachedNode; nameOf: (programId: string) => string }) {
  const { programs, events, maxQuorums } = node.autoscale;
  const lastChange = (programId: string) => events.filter((e) => e.programId === programId).at(-1);
  return (
    <>
      <h3>Auto-scaling {maxQuorums === undefined ? "" : `(the active set holds up to ${maxQuorums} quorum(s))`}</h3>
      {programs.length === 0 ? (
        <p className="muted">no request of any program has started on this node yet: nothing measured</p>
      ) : (
        <table data-testid="autoscale">
          <thead>
            <tr>
              <th>program</th>
              <th>quorums</th>
              <th>request → start (last · mean · max, samples)</th>
              <th>slow / fast streak</th>
              <th>fee quote</th>
              <th>last change</th>
            </tr>
          </thead>
          <tbody>
            {programs.map((p) => {
              const change = lastChange(p.programId);
              return (
                <tr key={p.programId} data-testid={`program-${p.programId}`}>
                  <td title={p.programId}>{nameOf(p.programId)}</td>
                  <td data-testid="quorums">{p.quorums}</td>
                  <td data-testid="latency">
                    {p.latency
                      ? `${ms(p.latency.lastMs)} · ${ms(p.latency.meanMs)} · ${ms(p.latency.maxMs)} (${p.latency.samples})`
                      : "—"}
                  </td>
                  <td>
                    {p.slowStreak} / {p.fastStreak}
                  </td>
                  <td data-testid="quote">
                    {multiplier(p.quoteBps)}
                    {p.quoteBps > 10_000 ? <span className="peak"> peak pricing</span> : null}
                  </td>
                  <td data-testid="last-change">
                    {change
                      ? `${change.kind} ${change.fromQuorums ?? "?"}→${change.quorums} at ${time(change.atMs)}`
                      : "none"}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {events.length > 0 && (
        <>
          <h3>Recent changes ({events.length}, newest first)</h3>
          <table data-testid="changes">
            <thead>
              <tr>
                <th>time</th>
                <th>program</th>
                <th>change</th>
                <th>quorums</th>
                <th>why</th>
                <th>firing sample</th>
              </tr>
            </thead>
            <tbody>
              {[...events].reverse().map((e) => (
                <tr key={`${e.atMs}-${e.chainId}-${e.requestId}`}>
                  <td>{time(e.atMs)}</td>
                  <td title={e.programId}>{nameOf(e.programId)}</td>
                  <td className={e.kind}>{e.kind}</td>
                  <td>
                    {e.fromQuorums ?? "?"} → {e.quorums}
                  </td>
                  <td className="small">{e.reason ?? ""}</td>
                  <td className="mono small">
                    {e.chainId}:{short(e.requestId, 6)}
                    {e.latencyMs === undefined ? "" : ` (${ms(e.latencyMs)})`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}

function Content({ content }: { content: ReachedNode["content"] }) {
  if (!content) return <p className="muted">content: not a persist or gateway node</p>;
  return (
    <>
      <h3>
        Content {content.persist ? "(persist node)" : "(not persisting)"}
        {content.gateway ? (
          <>
            {" "}
            gateway <a href={content.gateway}>{content.gateway}</a>
          </>
        ) : null}
      </h3>
      {content.held.length === 0 ? (
        <p className="muted" data-testid="content-held">
          holds no content
        </p>
      ) : (
        <table data-testid="content-held">
          <thead>
            <tr>
              <th>CID held</th>
              <th>a designated holder</th>
              <th>holders (peers)</th>
            </tr>
          </thead>
          <tbody>
            {content.held.map((h) => (
              <tr key={h.cid}>
                <td className="mono small">{h.cid}</td>
                <td>{h.holder ? "yes" : "no (cached)"}</td>
                <td className="mono small">{h.holders.map((p) => short(p, 6)).join(" ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function Node({ node, nameOf }: { node: NodeView; nameOf: (programId: string) => string }) {
  if (!node.ok)
    return (
      <section className="node" data-testid="node" data-node={node.url}>
        <h2>
          {node.url} <span className="error">{node.problem}</span>
        </h2>
        <p className="error" data-testid="node-error">
          {node.error}
        </p>
      </section>
    );
  return (
    <section className="node" data-testid="node" data-node={node.url}>
      <h2>
        {node.url} <span className="ok">reachable</span>{" "}
        <span className="muted small">
          {node.operator ? short(node.operator, 6) : "no operator"} · {node.roles.join(", ")} · {node.tookMs} ms
        </span>
      </h2>
      <Autoscale node={node} nameOf={nameOf} />
      <Content content={node.content} />
    </section>
  );
}

/** Every configured node's auto-scaling state and content holdings, as each node reports them. */
export function NetworkPage({ config }: { config: Config }) {
  const { data, error } = usePoll<NetworkAnswer>(config.nodes > 0 ? "/api/network" : null, 3000);
  const nameOf = useProgramNames();
  if (config.nodes === 0)
    return (
      <>
        <h1>Network</h1>
        <p className="muted" data-testid="no-nodes">
          No node configured: start the explorer with <code>--node http://host:opsPort</code> (repeatable) or
          VERSATUS_EXPLORER_NODES; the devnet passes its nodes.
        </p>
      </>
    );
  return (
    <>
      <h1>Network</h1>
      <p className="muted small">
        Each node's own view (GET /network of its ops server): quorums per program (SPEC 6: a quorum more after 1,000
        consecutive requests over 15 s to start, the farthest dropped after 1,000 under 50 ms), the fee quote over the
        base fee while extra quorums serve, and the content it holds.
        {data ? ` Read at ${time(data.readAt)}.` : ""}
      </p>
      {error ? <p className="error">{error}</p> : null}
      {(data?.nodes ?? []).map((node) => (
        <Node key={node.url} node={node} nameOf={nameOf} />
      ))}
    </>
  );
}
