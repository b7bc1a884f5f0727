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

describe("IOperatorSet: what the services read from an operator set", () => {
  it("declares every function the relayer and the collector call, identically in both implementations", () => {
    const signature = (abi: readonly unknown[], name: string) =>
      JSON.stringify(
        (abi as { type: string; name?: string; inputs?: unknown; outputs?: unknown }[])
          .filter((e) => e.type === "function" && e.name === name)
          .map((e) => ({ inputs: e.inputs, outputs: e.outputs })),
      );
    for (const name of ["threshold", "allOperators", "isActive", "checkSigners", "indexOf", "indexIn"]) {
      const declared = signature(abis.iOperatorSetAbi, name);
      expect(JSON.parse(declared), name).to.have.length(1);
      for (const implementation of [abis.ownedOperatorSetAbi, abis.stakingRegistryAbi]) {
        const implemented = JSON.parse(signature(implementation, name)) as { inputs: { type: string }[] }[];
        expect(
          implemented.map((e) => e.inputs.map((i) => i.type)),
          name,
        ).to.deep.equal(
          (JSON.parse(declared) as { inputs: { type: string }[] }[]).map((e) => e.inputs.map((i) => i.type)),
        );
      }
    }
  });
});
