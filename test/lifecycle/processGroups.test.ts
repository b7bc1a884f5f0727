import { spawn } from "node:child_process";
import { expect } from "chai";
import { groupAlive, groupsLeftBehind } from "../../cli/devnet/processes.ts";

/**
 * The leftover-process checks of the chaos, e2e and netns tests: a CI run once failed on a group
 * whose only member was on its way out. A group holding only a zombie (a SIGKILLed grandchild
 * reparented to an init that does not reap) is gone; a live member keeps it alive.
 */
describe("process groups left behind", function () {
  this.timeout(20_000);

  /**
   * A group whose one member is a zombie: `setsid` (not a group leader, so it does not fork) makes
   * the background child a group of its own and exits; its parent has exec'd `sleep`, which never
   * reaps it. Returns the zombie's group and the parent to kill afterwards.
   */
  async function zombieGroup(): Promise<{ pgid: number; parent: number }> {
    const parent = spawn("sh", ["-c", 'setsid sh -c "exit 0" & echo $!; exec sleep 30'], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    const pgid = await new Promise<number>((resolve) =>
      parent.stdout!.once("data", (b: Buffer) => resolve(Number(b.toString().trim()))),
    );
    return { pgid, parent: parent.pid! };
  }

  it("a group holding only a zombie is not alive, though the kernel still answers for it", async () => {
    const { pgid, parent } = await zombieGroup();
    try {
      let zombie = false;
      for (let i = 0; i < 50 && !zombie; i++) {
        await new Promise((r) => setTimeout(r, 50));
        try {
          process.kill(-pgid, 0);
          zombie = !groupAlive(pgid);
        } catch {
          break;
        }
      }
      expect(zombie, "the group is a zombie that kill(-pgid, 0) still finds, and groupAlive says gone").to.equal(true);
    } finally {
      process.kill(parent, "SIGKILL");
    }
  });

  it("a group with a running member is alive until it is killed, and then waited for", async () => {
    const child = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
    const pgid = child.pid!;
    expect(groupAlive(pgid)).to.equal(true);
    expect(await groupsLeftBehind([pgid], 200)).to.deep.equal([pgid]);
    process.kill(-pgid, "SIGKILL");
    expect(await groupsLeftBehind([pgid], 5_000)).to.deep.equal([]);
  });
});
