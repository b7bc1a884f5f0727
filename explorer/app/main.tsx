import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { WagmiProvider, useBlockNumber } from "wagmi";
import { getJson, type Config } from "./api.ts";
import { wagmiConfigFor } from "./chains.ts";
import { DappPage } from "./dapp.tsx";
import { NetworkPage } from "./network.tsx";
import { DisputesPage, OperatorsPage, ProgramsPage, QueuesPage, RequestPage, RequestsPage } from "./pages.tsx";
import "./style.css";

function useHashRoute(): string[] {
  const read = () => (window.location.hash.replace(/^#\/?/, "") || "requests").split("/");
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

function Head({ chainId, name }: { chainId: number; name: string }) {
  const { data } = useBlockNumber({ chainId, watch: true });
  return (
    <span className="head" data-testid={`head-${chainId}`}>
      {name} ({chainId}) block {data === undefined ? "…" : data.toString()}
    </span>
  );
}

const TABS = [
  ["requests", "Requests"],
  ["programs", "Programs"],
  ["operators", "Operators & watchers"],
  ["disputes", "Disputes"],
  ["queues", "Queues"],
  ["network", "Network"],
  ["dapp", "Example dApp"],
] as const;

function App({ config }: { config: Config }) {
  const route = useHashRoute();
  const [page, a, b] = route;
  return (
    <>
      <header>
        <strong>Versatus explorer</strong> <span className="muted">{config.network}</span>
        <nav>
          {TABS.map(([id, label]) => (
            <a key={id} href={`#/${id}`} className={page === id ? "active" : ""}>
              {label}
            </a>
          ))}
        </nav>
        <span className="heads">
          {config.chains.map((c) => (
            <Head key={c.chainId} chainId={c.chainId} name={c.name} />
          ))}
        </span>
      </header>
      <main>
        {page === "requests" && a && b ? (
          <RequestPage config={config} chainId={Number(a)} requestId={b} />
        ) : page === "programs" ? (
          <ProgramsPage />
        ) : page === "operators" ? (
          <OperatorsPage config={config} />
        ) : page === "disputes" ? (
          <DisputesPage />
        ) : page === "queues" ? (
          <QueuesPage config={config} />
        ) : page === "network" ? (
          <NetworkPage config={config} />
        ) : page === "dapp" ? (
          <DappPage config={config} />
        ) : (
          <RequestsPage config={config} />
        )}
      </main>
    </>
  );
}

const queryClient = new QueryClient();

getJson<Config>("/api/config").then(
  (config) => {
    createRoot(document.getElementById("root")!).render(
      <StrictMode>
        <WagmiProvider config={wagmiConfigFor(config)}>
          <QueryClientProvider client={queryClient}>
            <App config={config} />
          </QueryClientProvider>
        </WagmiProvider>
      </StrictMode>,
    );
  },
  (error: unknown) => {
    document.getElementById("root")!.textContent = `The explorer API did not answer: ${String(error)}`;
  },
);
