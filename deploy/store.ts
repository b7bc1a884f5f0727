import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";

/** What deployments/<network>/<Name>.json holds. */
export type Deployment = {
  address: string;
  contractName: string;
  abi: unknown[];
  args: unknown[];
  transactionHash?: string;
  bytecodeHash: string;
  chainId: number;
};

/** Saved deployments of one network: files under deployments/<network>/, or memory for in-process chains. */
export class DeploymentStore {
  private readonly memory = new Map<string, Deployment>();
  readonly dir: string | undefined;

  constructor(dir: string | undefined) {
    this.dir = dir;
    if (dir) mkdirSync(dir, { recursive: true });
  }

  get(name: string): Deployment | undefined {
    if (!this.dir) return this.memory.get(name);
    const file = join(this.dir, `${name}.json`);
    return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Deployment) : undefined;
  }

  save(name: string, deployment: Deployment): void {
    if (!this.dir) {
      this.memory.set(name, deployment);
      return;
    }
    writeFileSync(join(this.dir, `${name}.json`), JSON.stringify(deployment, null, 2) + "\n");
  }

  all(): Record<string, Deployment> {
    if (!this.dir) return Object.fromEntries(this.memory);
    const out: Record<string, Deployment> = {};
    for (const file of readdirSync(this.dir).filter((f) => f.endsWith(".json"))) {
      out[file.slice(0, -5)] = JSON.parse(readFileSync(join(this.dir, file), "utf8")) as Deployment;
    }
    return out;
  }

  reset(): void {
    this.memory.clear();
    if (this.dir) {
      rmSync(this.dir, { recursive: true, force: true });
      mkdirSync(this.dir, { recursive: true });
    }
  }
}
