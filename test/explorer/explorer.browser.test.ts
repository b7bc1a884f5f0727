import { expect } from "chai";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { custom } from "viem";
import { ensureExplorerBuilt } from "../../explorer/build.ts";
import { startExplorer, type ExplorerHandle } from "../../explorer/server.ts";
import { repoRoot } from "../fixtures/programs.ts";
import { createWorld, redisUrl, type World } from "../e2e/harness.ts";
import { createNodeWorld, type NodeWorld } from "../node/helpers.ts";
import { CHROMIUM_ARGS, findChromium } from "./browser.ts";
import { deadOpsUrl, startPersistingOps, startScaledNode } from "./nodes.ts";

const SHOTS = join(repoRoot, "test-results", "explorer");

describe("explorer and example dApp in a browser (in-process chains and network, real Redis, Debian chromium)", function () {
  this.timeout(120_000);
  const executablePath = findChromium();
  let world: World | undefined;
  let nodeWorld: NodeWorld | undefined;
  let scaled: Awaited<ReturnType<typeof startScaledNode>>;
  let deadNode: string;
  let persisting: Awaited<ReturnType<typeof startPersistingOps>>;
  let explorer: ExplorerHandle | undefined;
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    // three in-process chains with the suite deployed, the services, a node: slow on a loaded machine
    this.timeout(300_000);
    if (!executablePath) {
      console.log(
        "    skipped: no chromium found (set CHROMIUM_PATH, or install Debian's: apt-get install -y chromium; .ci/run does)",
      );
      this.skip();
    }
    mkdirSync(SHOTS, { recursive: true });
    await ensureExplorerBuilt();
    world = await createWorld();
    const services = await world.start();
    const da = services.ingestor.config.da as { primary: { dir: string } };
    // the Network page: a real operator node's ops server (its scaler through add, drop, add) and a dead one
    nodeWorld = await createNodeWorld();
    scaled = await startScaledNode(nodeWorld);
    deadNode = await deadOpsUrl();
    persisting = await startPersistingOps(scaled.node);
    explorer = await startExplorer({
      chains: world.chains.map((c) => ({ ...c.devnet, transport: custom(c.connection.provider) })),
      da: { dir: da.primary.dir },
      redisUrl,
      devAccounts: true,
      programDirs: [world.storeDir],
      network: "in-process test network",
      nodes: [scaled.url, deadNode, persisting.url],
    });
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("pageerror", (e) => console.log(`    page error: ${e.message}`));
  });

  after(async () => {
    await browser?.close();
    await explorer?.close();
    await world?.close();
    await persisting?.close();
    await nodeWorld?.close();
  });

  it("a payout split requested in the dApp (dev account, project client) shows up settled on its explorer page", async () => {
    await page.goto(`${explorer!.url}#/dapp`);
    await page.getByTestId("use-dev").click();
    await expect(await page.getByTestId("account").textContent()).to.match(/^0x[0-9a-fA-F]{40}$/);
    await page.getByTestId("send-payout").click();
    const settled = page.getByTestId("payout-settled");
    await settled.waitFor({ timeout: 60_000 });
    expect(await settled.textContent()).to.match(/settled: dispersed/);
    await page.screenshot({ path: join(SHOTS, "dapp.png"), fullPage: true });
    // its explorer page: settled, the input, two TRANSFERs done, 3+ signatures, the record's stdout
    await settled.getByRole("link").click();
    await page.getByTestId(`leg-${world!.a.devnet.chainId}`).waitFor({ timeout: 20_000 });
    expect(await page.getByTestId("state").first().textContent()).to.equal("settled");
    expect(await page.getByTestId("input").textContent()).to.contain("recipients");
    const leg = await page.getByTestId(`leg-${world!.a.devnet.chainId}`).textContent();
    expect(leg).to.match(/TRANSFER.*done.*TRANSFER.*done/s);
    expect(leg).to.match(/Signatures \([34]\)/);
    await page.getByTestId("stdout").waitFor({ timeout: 10_000 });
    expect(await page.getByTestId("stdout").textContent()).to.contain('"op"');
    await page.screenshot({ path: join(SHOTS, "request.png"), fullPage: true });
    // and in the chain's request list
    await page.goto(`${explorer!.url}#/requests`);
    const list = page.getByTestId(`requests-${world!.a.devnet.chainId}`);
    await list.waitFor();
    expect(await list.textContent()).to.match(/payout-splitter.*settled/s);
    await page.screenshot({ path: join(SHOTS, "requests.png"), fullPage: true });
  });

  it("a token move from the dApp burns on chain A and mints on chain B, both legs on the request page", async () => {
    await page.goto(`${explorer!.url}#/dapp`);
    await page.getByTestId("use-dev").click();
    await page.getByTestId("send-move").click();
    const destination = page.getByTestId("move-destination-settled");
    await destination.waitFor({ timeout: 60_000 });
    expect(await page.getByTestId("move-origin-settled").textContent()).to.match(/settled: dispersed/);
    expect(await destination.textContent()).to.match(/minted/);
    await destination.getByRole("link").click();
    await page.getByTestId(`leg-${world!.b.devnet.chainId}`).waitFor({ timeout: 20_000 });
    expect(await page.getByTestId(`leg-${world!.a.devnet.chainId}`).textContent()).to.match(/BURN/);
    expect(await page.getByTestId(`leg-${world!.b.devnet.chainId}`).textContent()).to.match(/MINT.*minted/s);
    await page.screenshot({ path: join(SHOTS, "token-move.png"), fullPage: true });
  });

  it("the operators page shows the stake table of the four staked operators and the required-stake curve", async () => {
    await page.goto(`${explorer!.url}#/operators`);
    const table = page.getByTestId("stake-table").first();
    await table.waitFor({ timeout: 20_000 });
    const rows = await table.locator("tbody tr").allTextContents();
    expect(rows).to.have.length(4);
    for (const row of rows) expect(row).to.match(/^0x[0-9a-fA-F]{40}\d+active/);
    expect(await page.getByTestId("curve").first().locator("path").count()).to.equal(1);
    await page.screenshot({ path: join(SHOTS, "operators.png"), fullPage: true });
  });

  it("the programs page lists each published program with its manifest version, language and runs", async () => {
    await page.goto(`${explorer!.url}#/programs`);
    const table = page.getByTestId("programs");
    await table.locator("tbody tr").first().waitFor({ timeout: 20_000 });
    const rows = await table.locator("tbody tr").allTextContents();
    const payout = rows.find((r) => r.startsWith("payout-splitter"));
    // published on both chains; run once by the payout test above (the token move ran token-mover)
    expect(payout).to.match(/WebAssembly/);
    expect(payout).to.match(/31337.*31338/s);
    expect(payout).to.match(/1$/);
    expect(rows.find((r) => r.startsWith("token-mover"))).to.match(/1$/);
    await page.screenshot({ path: join(SHOTS, "programs.png"), fullPage: true });
  });

  it("queue health lists the network's queues, and Bull Board is served read-only", async () => {
    await page.goto(`${explorer!.url}#/queues`);
    const table = page.getByTestId("queues");
    await table.locator("tbody tr").first().waitFor({ timeout: 20_000 });
    expect(await table.textContent()).to.match(/results/);
    const board = await fetch(`${explorer!.url}queues/api/queues`).then(
      (r) => r.json() as Promise<{ queues: { name: string; readOnlyMode: boolean }[] }>,
    );
    expect(board.queues.length).to.be.greaterThan(0);
    expect(board.queues.every((q) => q.readOnlyMode)).to.equal(true);
    await page.screenshot({ path: join(SHOTS, "queues.png"), fullPage: true });
    // Bull Board's own page renders the queues (its UI assets are served under /queues/)
    await page.goto(`${explorer!.url}queues/`);
    await page.getByText("results", { exact: false }).first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(SHOTS, "bull-board.png") });
  });

  it("the network page shows a node's quorums, measured latency, fee quote and add/drop changes, and an unreachable node's reason, a persist node's content", async () => {
    await page.goto(`${explorer!.url}#/network`);
    const node = page.locator(`[data-testid="node"][data-node="${scaled.url}"]`);
    const row = node.getByTestId(`program-${scaled.programId.toLowerCase()}`);
    await row.waitFor({ timeout: 20_000 });
    // the program is named from the programs page's data (the same package is published in the browser world)
    expect(await row.locator("td").first().textContent()).to.equal("payout-splitter");
    expect(await row.getByTestId("quorums").textContent()).to.equal("2");
    expect(await row.getByTestId("latency").textContent()).to.equal("20 s · 20 s · 20 s (100)");
    expect(await row.getByTestId("quote").textContent()).to.equal("1.5× peak pricing");
    expect(await row.getByTestId("last-change").textContent()).to.match(/^add 1→2 at \d\d:\d\d:\d\d$/);
    const changes = await node.getByTestId("changes").locator("tbody tr").allTextContents();
    expect(changes).to.have.length(3);
    expect(changes[0]).to.match(/payout-splitteradd1 → 2.*waited > 15,000 ms/);
    expect(changes[1]).to.match(/payout-splitterdrop2 → 1.*started in < 50 ms/);
    expect(await node.textContent()).to.contain("not a persist or gateway node");
    const dead = page.locator(`[data-testid="node"][data-node="${deadNode}"]`);
    expect(await dead.textContent()).to.contain("unreachable");
    expect(await dead.getByTestId("node-error").textContent()).to.equal("ECONNREFUSED");
    // a persist node's holdings: each CID, whether it is a designated holder, and the holders
    const held = page.locator(`[data-testid="node"][data-node="${persisting.url}"]`).getByTestId("content-held");
    const rows = await held.locator("tbody tr").allTextContents();
    expect(rows).to.have.length(2);
    expect(rows[0]).to.match(/^bafkreiheldbyitasholderyes12D3KooW…tNodeA 12D3KooW…tNodeB$/);
    expect(rows[1]).to.match(/^bafkreicachedonlyno \(cached\)12D3KooW…tNodeB$/);
    await page.screenshot({ path: join(SHOTS, "network.png"), fullPage: true });
  });
});
