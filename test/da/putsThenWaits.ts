/**
 * Child process of the local store's crash test: puts `count` distinct records concurrently into
 * `dir` and prints each pointer's sha256 the moment its put resolves, then waits to be killed.
 * Usage: node test/da/putsThenWaits.ts <dir> <count>
 */
import { LocalStore } from "../../da/local.ts";

const [dir, count] = [process.argv[2]!, Number(process.argv[3])];
const store = new LocalStore({ dir });
for (let i = 0; i < count; i++) {
  const bytes = new TextEncoder().encode(`record ${i} ${"x".repeat(2_000 + i)}`);
  void store.put(bytes).then((pointer) => {
    if (pointer.kind === "local") process.stdout.write(`${i} ${pointer.sha256}\n`);
  });
}
setInterval(() => {}, 1_000);
