import { expect } from "chai";
import { network } from "hardhat";
import { createPublicClient, custom } from "viem";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadNodeConfig } from "../../cli/node/config.ts";
import { loadIngestorConfig } from "../../ingestor/config.ts";
import { InvalidInputError } from "../../protocol/errors.ts";
import { loadRelayerConfig } from "../../relayer/config.ts";
import { startRelayer } from "../../relayer/index.ts";
import { loadWatcherConfig } from "../../watcher/config.ts";
import { loadWorkerConfig } from "../../worker/config.ts";
import { deployTestSuite, operatorWallets } from "../helpers/suite.ts";
import { capturedLogger, chainAt, redisUrl } from "./helpers.ts";

const A1 = "0x0000000000000000000000000000000000000001";
const A2 = "0x0000000000000000000000000000000000000002";
const OP1 = "0x00000000000000000000000000000000000000a1";
const OP2 = "0x00000000000000000000000000000000000000a2";
const KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const chain = (chainId = 31337) => ({ chainId, rpcUrl: "http://127.0.0.1:8545", oracle: A1, ingestor: A2 });

const dir = mkdtempSync(join(tmpdir(), "versatus-lifecycle-config-"));
let files = 0;
/** Writes `content` (JSON unless a string) to a fresh file and returns its path. */
function file(content: unknown): string {
  const path = join(dir, `config-${files++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

/** Runs `load` and returns the InvalidInputError's message (fails if it does not throw one). */
function startupError(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(InvalidInputError);
    return (error as Error).message;
  }
  expect.fail("the config was accepted");
}

describe("lifecycle: every bad config is a startup error naming the field", () => {
  const relayer = (overrides: Record<string, unknown> = {}) => ({
    chains: [chain()],
    operators: { addresses: [OP1] },
    scheduler: { quorum: 1 },
    ...overrides,
  });

  it("relayer quorum greater than the configured operators", () => {
    const message = startupError(() =>
      loadRelayerConfig({ file: file(relayer({ scheduler: { quorum: 9 } })), env: {} }),
    );
    expect(message).to.contain("scheduler.quorum").and.contain("at most the number of operators (1");
    // the same quorum is fine once enough operators are listed, or with an on-chain operator set
    expect(
      loadRelayerConfig({ raw: relayer({ operators: { addresses: [OP1, OP2] }, scheduler: { quorum: 2 } }), env: {} })
        .scheduler.quorum,
    ).to.equal(2);
    const withSet = relayer({ operators: { operatorSet: { chainId: 31337, address: A1 } }, scheduler: { quorum: 9 } });
    expect(loadRelayerConfig({ raw: withSet, env: {} }).scheduler.quorum).to.equal(9);
  });

  it("relayer operator listed twice", () => {
    const message = startupError(() =>
      loadRelayerConfig({
        raw: relayer({ operators: { addresses: [OP1, OP1.toUpperCase().replace("0X", "0x")] } }),
        env: {},
      }),
    );
    expect(message).to.contain("operators.addresses.1").and.contain("listed twice");
  });

  it("collector threshold greater than its operators", () => {
    const message = startupError(() =>
      loadIngestorConfig({ file: file({ chains: [chain()], collector: { operators: [OP1], threshold: 5 } }), env: {} }),
    );
    expect(message).to.contain("collector.threshold").and.contain("at most the number of operators (1");
    const ok = loadIngestorConfig({
      raw: { chains: [chain()], collector: { operators: [OP1, OP2], threshold: 2 } },
      env: {},
    });
    expect(ok.collector.threshold).to.equal(2);
  });

  it("the ingestor's duplicate chain ids", () => {
    const message = startupError(() => loadIngestorConfig({ raw: { chains: [chain(), chain()] }, env: {} }));
    expect(message).to.contain("chains.1.chainId").and.contain("chain 31337 is listed twice");
  });

  it("programs.urls with a scheme other than http/https, and program dirs that do not exist", () => {
    const worker = (programs: unknown) => ({ chains: [{ chainId: 31337, ingestor: A2 }], programs });
    let message = startupError(() => loadWorkerConfig({ file: file(worker({ urls: ["ftp://x"] })), env: {} }));
    expect(message).to.contain("programs.urls.0").and.contain("http:// or https://").and.contain('"ftp://x"');
    message = startupError(() =>
      loadWatcherConfig({
        file: file({ chains: [{ ...chain(), disputeManager: A1, registry: A2 }], programs: { urls: ["file:///x"] } }),
        env: {},
      }),
    );
    expect(message).to.contain("programs.urls.0");
    message = startupError(() =>
      loadWorkerConfig({ file: file(worker({ dirs: [join(dir, "no-such-dir")] })), env: {} }),
    );
    expect(message).to.contain("programs.dirs.0").and.contain("an existing directory").and.contain("no-such-dir");
    message = startupError(() =>
      loadWorkerConfig({ raw: worker({ dirs: [dir] }), env: { VERSATUS_PROGRAMS_URL: "gopher://x" } }),
    );
    expect(message).to.contain("VERSATUS_PROGRAMS_URL");
    expect(
      loadWorkerConfig({ file: file(worker({ dirs: [dir], urls: ["https://programs.example.org"] })), env: {} })
        .programs.urls,
    ).to.deep.equal(["https://programs.example.org"]);
  });

  it("URLs of chains and Redis", () => {
    let message = startupError(() =>
      loadRelayerConfig({ raw: relayer({ chains: [{ ...chain(), rpcUrl: "ftp://x" }] }), env: {} }),
    );
    expect(message).to.contain("chains.0.rpcUrl").and.contain("http:// or https://");
    for (const url of ["garbage", "http://127.0.0.1:6379", "redis://127.0.0.1:99999"]) {
      message = startupError(() => loadRelayerConfig({ raw: relayer({ redis: { url } }), env: {} }));
      expect(message, url).to.contain("redis.url").and.contain("redis:// or rediss://");
      // the environment override is checked the same way
      message = startupError(() => loadIngestorConfig({ raw: { chains: [chain()] }, env: { REDIS_URL: url } }));
      expect(message, url).to.contain("redis.url");
    }
  });

  it("ports outside 1..65535 (0 = any free port)", () => {
    for (const port of [70_000, -1, 1.5]) {
      const message = startupError(() =>
        loadRelayerConfig({ file: file(relayer({ operations: { httpPort: port } })), env: {} }),
      );
      expect(message, String(port)).to.contain("operations.httpPort");
    }
    expect(startupError(() => loadRelayerConfig({ raw: relayer(), env: { RELAYER_HTTP_PORT: "70000" } }))).to.contain(
      "operations.httpPort",
    );
    expect(
      startupError(() =>
        loadWorkerConfig({
          raw: { chains: [{ chainId: 1, ingestor: A2 }], programs: { dirs: [dir] } },
          env: { WORKER_HTTP_PORT: "http" },
        }),
      ),
    ).to.contain("WORKER_HTTP_PORT");
    expect(
      loadRelayerConfig({ raw: relayer({ operations: { httpPort: 65_535 } }), env: {} }).operations.httpPort,
    ).to.equal(65_535);
    expect(loadRelayerConfig({ raw: relayer(), env: { RELAYER_HTTP_PORT: "0" } }).operations.httpPort).to.equal(0);
  });

  it("a key inside a config file, whatever the service or the field", () => {
    let message = startupError(() =>
      loadIngestorConfig({ file: file({ chains: [chain()], posterKey: KEY }), env: {} }),
    );
    expect(message).to.contain("posterKey").and.contain("only from the environment");
    message = startupError(() =>
      loadWatcherConfig({
        file: file({
          chains: [{ ...chain(), disputeManager: A1, registry: A2 }],
          programs: { dirs: [dir] },
          watcher: { privateKey: KEY },
        }),
        env: {},
      }),
    );
    expect(message).to.contain("watcher.privateKey");
    message = startupError(() =>
      loadWorkerConfig({
        file: file({ chains: [{ chainId: 1, ingestor: A2 }], programs: { dirs: [dir] }, operator: { key: KEY } }),
        env: {},
      }),
    );
    expect(message).to.contain("operator.key");
    // in a section the schema would reject anyway (DA config is free-form): still named
    message = startupError(() =>
      loadIngestorConfig({
        file: file({ chains: [chain()], da: { primary: { layer: "eigenda", apiKey: "abc" } } }),
        env: {},
      }),
    );
    expect(message).to.contain("da.primary.apiKey");
    // the key from the environment, and keyEnv (a variable's name) in the file, are fine
    const config = loadIngestorConfig({ file: file({ chains: [chain()] }), env: { POSTER_KEY: KEY } });
    expect(config.posterKey).to.equal(KEY);
    const worker = loadWorkerConfig({
      file: file({ chains: [{ chainId: 1, ingestor: A2 }], programs: { dirs: [dir] }, operator: { keyEnv: "MY_KEY" } }),
      env: {},
    });
    expect(worker.operator.keyEnv).to.equal("MY_KEY");
  });

  it("a null (or non-object) config plus an environment override: a clear error, not a TypeError", () => {
    for (const content of ["null", "[]", "42", '"x"']) {
      const path = file(content);
      const message = startupError(() =>
        loadIngestorConfig({ file: path, env: { REDIS_URL: "redis://127.0.0.1:6379", POSTER_KEY: KEY } }),
      );
      expect(message, content).to.contain(path).and.contain("(root)").and.contain("a JSON object");
      expect(message).not.to.contain("TypeError");
    }
    expect(startupError(() => loadRelayerConfig({ raw: null, env: { RELAYER_HTTP_PORT: "1" } }))).to.contain(
      "a JSON object",
    );
  });
});

describe("lifecycle: the node's config fails the same way", () => {
  const node = (overrides: Record<string, unknown> = {}) => ({
    network: { name: "lifecycle", listen: ["/ip4/127.0.0.1/tcp/0"], peerKeyFile: join(dir, "peer.key") },
    roles: ["relay", "compute"],
    redis: { url: "redis://127.0.0.1:1/1" },
    chains: [chain()],
    programs: { dirs: [dir] },
    ...overrides,
  });

  it("a key in the file (any section), a non-http(s) program URL, a chain listed twice, a port out of range", () => {
    expect(
      startupError(() => loadNodeConfig({ file: file(node({ poster: { posterKey: KEY } })), env: {} })),
    ).to.contain("poster.posterKey");
    expect(
      startupError(() => loadNodeConfig({ file: file(node({ programs: { urls: ["ftp://x"] } })), env: {} })),
    ).to.contain("programs.urls.0");
    expect(startupError(() => loadNodeConfig({ raw: node({ chains: [chain(), chain()] }), env: {} }))).to.contain(
      "chains.1.chainId",
    );
    expect(startupError(() => loadNodeConfig({ raw: node({ ops: { port: 70_000 } }), env: {} }))).to.contain(
      "ops.port",
    );
    expect(
      startupError(() => loadNodeConfig({ file: file("null"), env: { REDIS_URL: "redis://127.0.0.1:1" } })),
    ).to.contain("a JSON object");
  });
});

describe("lifecycle: a relayer quorum above the on-chain operator set is a loud warning at start", function () {
  this.timeout(60_000);

  it("says how many operators it found for which quorum, once per count", async () => {
    const connection = await network.create("chainA");
    const suite = await deployTestSuite(connection);
    const client = createPublicClient({ transport: custom(connection.provider) });
    const onChain = operatorWallets().length;
    const { lines, log } = capturedLogger();
    const relayer = await startRelayer(
      loadRelayerConfig({
        raw: {
          chains: [
            {
              ...chainAt("http://in-process.invalid"),
              oracle: suite.addresses.ExecutableOracle,
              ingestor: suite.addresses.InstructionIngestor,
            },
          ],
          operators: { operatorSet: { chainId: 31337, address: suite.addresses.OwnedOperatorSet } },
          scheduler: { quorum: onChain + 5 },
          redis: { url: redisUrl },
        },
        env: {},
      }),
      { clients: { 31337: client }, autoStart: false, logger: log, opsServer: false },
    );
    try {
      await relayer.refreshOperators();
      const warnings = lines.filter((l) => l.level === 40 && l.quorum === onChain + 5);
      expect(warnings.map((l) => l.msg)).to.deep.equal([
        `only ${onChain} operator(s) for a quorum of ${onChain + 5}: requests get fewer operators than scheduler.quorum and may never reach the collector's threshold`,
      ]);
    } finally {
      await relayer.close();
    }
  });
});
