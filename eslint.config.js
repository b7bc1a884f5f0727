import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "artifacts/",
      "cache/",
      "coverage/",
      "typechain-types/",
      "types/",
      "deployments/",
      "bench/results/",
      "programs/**/build/",
      "programs/**/assembly/",
      "sdk/assemblyscript/",
      "programs/**/target/",
      ".versatus/",
      "explorer/dist/",
      "test-results/",
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
    },
  },
  {
    // Ambient declarations of the WebAssembly JS API mirror its loosely typed signatures.
    files: ["runtime/webassembly.d.ts"],
    rules: { "@typescript-eslint/no-unsafe-function-type": "off" },
  },
);
