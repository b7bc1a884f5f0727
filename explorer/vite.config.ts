import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = dirname(fileURLToPath(import.meta.url));

/** The explorer page: explorer/app -> explorer/dist (served by `versatus explorer`). */
export default defineConfig({
  root: join(here, "app"),
  base: "/",
  plugins: [react()],
  logLevel: "warn",
  build: { outDir: join(here, "dist"), emptyOutDir: true, chunkSizeWarningLimit: 2048 },
});
