import { expect } from "chai";
import {
  OPERATOR,
  chainAt,
  configFile,
  deadPort,
  gone,
  isAlive,
  killAllStarted,
  logLines,
  oldSystemNode,
  startCli,
  type Service,
} from "./helpers.ts";

/**
 * cli/bin.js started by the machine's Node 20 re-runs itself on the pinned Node 22: the launcher
 * must forward signals and end as its child ended.
 */
describe("lifecycle: the launcher under the system's older Node", function () {
  this.timeout(120_000);
  const node = oldSystemNode();
  before(function () {
    if (!node) this.skip(); // no Node < 22.18 on this machine: there is no relaunch to test
  });
  afterEach(() => killAllStarted());

  /** A relayer (Redis and RPC down, so it runs until told to stop) behind the launcher; resolves with the child's pid. */
  async function relayerBehindLauncher(): Promise<{ launcher: Service; childPid: number }> {
    const config = configFile({
      chains: [chainAt(`http://127.0.0.1:${await deadPort()}`)],
      operators: { addresses: [OPERATOR] },
      scheduler: { quorum: 1 },
      redis: { url: `redis://127.0.0.1:${await deadPort()}` },
    });
    const launcher = startCli(["relayer", "--config", config], { node: node! });
    await launcher.waitFor(/"msg":"relayer started"/, 60_000);
    const childPid = logLines(launcher.output()).find((l) => typeof l.pid === "number")!.pid as number;
    expect(childPid).to.not.equal(launcher.pid);
    expect(isAlive(childPid)).to.equal(true);
    return { launcher, childPid };
  }

  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    it(`${signal} to the launcher alone reaches the service; both end, with the service's status 0`, async () => {
      const { launcher, childPid } = await relayerBehindLauncher();
      process.kill(launcher.pid, signal);
      const exit = await launcher.exited;
      expect({ code: exit.code, signal: exit.signal }, launcher.output()).to.deep.equal({ code: 0, signal: null });
      expect(await gone(childPid), `child ${childPid} left running`).to.equal(true);
      expect(launcher.output())
        .to.contain(`relayer: ${signal} received, stopping`)
        .and.contain('"msg":"relayer stopped"');
    });
  }

  it("a terminal's Ctrl-C (SIGINT to the whole group, forwarded once more) is one graceful stop", async () => {
    const { launcher, childPid } = await relayerBehindLauncher();
    process.kill(-launcher.pid, "SIGINT");
    const exit = await launcher.exited;
    expect({ code: exit.code, signal: exit.signal }, launcher.output()).to.deep.equal({ code: 0, signal: null });
    expect(await gone(childPid)).to.equal(true);
    expect(launcher.output()).not.to.contain("exiting now");
  });

  it("exits with the child's exit code, or dies of the child's signal", async () => {
    const failing = startCli(["relayer", "--config", configFile({ chains: [] })], { node: node! });
    const failed = await failing.exited;
    expect(failed.code, failing.output()).to.equal(1);
    expect(failing.output()).to.contain("relayer did not start: Invalid config");

    const { launcher, childPid } = await relayerBehindLauncher();
    process.kill(childPid, "SIGKILL");
    const exit = await launcher.exited;
    expect(exit.signal, launcher.output()).to.equal("SIGKILL");
  });
});
