import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as abis from "../../protocol/generated/abis.ts";
import { EXPORTED_CONTRACTS } from "../../scripts/export-abis.ts";

describe("protocol/abis", () => {
  it("matches the compiled contracts (run `npm run abis` after changing an interface)", () => {
    for (const [name, path] of Object.entries(EXPORTED_CONTRACTS)) {
      const compiled = JSON.parse(readFileSync(join(process.cwd(), "artifacts", path), "utf8")).abi;
      const exported = (abis as Record<string, unknown>)[`${name[0]!.toLowerCase()}${name.slice(1)}Abi`];
      expect(exported, name).to.deep.equal(compiled);
    }
  });
});
