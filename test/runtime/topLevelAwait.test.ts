import { expect } from "chai";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { repoRoot } from "../fixtures/programs.ts";

/**
 * Issue 13: a V8 fatal error (`Check failed: (location_) != nullptr` in
 * SourceTextModule::AsyncModuleExecutionFulfilled, nodejs/node#53238) once killed `npm test`. It
 * comes from modules with top-level await (their evaluation finishes asynchronously), loaded by
 * several importers or in worker threads that can be terminated while it is pending. These tests
 * walk the real import graphs and keep top-level await out of them:
 * - no module of this repository that a test, a service or a worker thread imports has any;
 * - nothing a worker thread loads has any, dependencies included. binaryen's npm build does
 *   (`await` of its own WebAssembly instantiation), so worker threads must never import it: the
 *   pool worker imports runtime/loadChecks.ts for the names the instrumentation uses, not
 *   runtime/instrument.ts.
 */

type ModuleInfo = { topLevelAwait: number | undefined; imports: string[] };

const infos = new Map<string, ModuleInfo>();

function info(path: string): ModuleInfo {
  let found = infos.get(path);
  if (found) return found;
  const text = readFileSync(path, "utf8");
  const imports: string[] = [];
  let topLevelAwait: number | undefined;
  // Cheap prefilter: most dependency files have neither `await` nor an import to follow.
  if (/\bawait\b|\bimport\b|\bexport\b/.test(text)) {
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, scriptKind(path));
    const visit = (node: ts.Node, inFunction: boolean): void => {
      if (
        (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
        node.moduleSpecifier &&
        ts.isStringLiteral(node.moduleSpecifier)
      ) {
        const typeOnly = ts.isImportDeclaration(node) ? node.importClause?.isTypeOnly : node.isTypeOnly;
        if (!typeOnly) imports.push(node.moduleSpecifier.text);
      }
      if (
        ts.isCallExpression(node) &&
        node.expression.kind === ts.SyntaxKind.ImportKeyword &&
        node.arguments[0] &&
        ts.isStringLiteral(node.arguments[0])
      ) {
        imports.push(node.arguments[0].text);
      }
      const inside = inFunction || ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node);
      if (
        !inside &&
        topLevelAwait === undefined &&
        (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier))
      ) {
        topLevelAwait = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      }
      ts.forEachChild(node, (child) => visit(child, inside));
    };
    visit(source, false);
  }
  found = { topLevelAwait, imports };
  infos.set(path, found);
  return found;
}

function scriptKind(path: string): ts.ScriptKind {
  if (path.endsWith(".ts") || path.endsWith(".mts")) return ts.ScriptKind.TS;
  return ts.ScriptKind.JS;
}

/** Resolves an import as Node's ESM loader would (the `node`, `import`, `default` conditions). */
function resolveImport(specifier: string, from: string): string | undefined {
  if (specifier.startsWith("node:") || !/^[./@a-z0-9]/i.test(specifier)) return undefined;
  if (specifier.startsWith(".") || specifier.startsWith("/")) {
    const path = resolve(dirname(from), specifier);
    return existsSync(path) && statSync(path).isFile() ? path : undefined;
  }
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
  const subpath = `.${specifier.slice(name.length)}`;
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const packageDir = join(dir, "node_modules", name);
    if (existsSync(join(packageDir, "package.json"))) {
      const pkg = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as {
        exports?: unknown;
        module?: string;
        main?: string;
      };
      const target = pkg.exports
        ? exportTarget(pkg.exports, subpath)
        : subpath === "."
          ? (pkg.module ?? pkg.main ?? "index.js")
          : subpath;
      if (!target) return undefined;
      const path = join(packageDir, target);
      return existsSync(path) ? path : undefined;
    }
    if (dir === dirname(dir)) return undefined; // a built-in (fs, path, ...) or not installed
  }
}

function exportTarget(exports: unknown, subpath: string): string | undefined {
  const conditional = (value: unknown): string | undefined => {
    if (typeof value === "string") return value;
    if (Array.isArray(value)) return value.map(conditional).find(Boolean);
    if (value && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) {
        if (key === "node" || key === "import" || key === "default") {
          const found = conditional(inner);
          if (found) return found;
        }
      }
    }
    return undefined;
  };
  if (typeof exports === "string" || Array.isArray(exports)) return subpath === "." ? conditional(exports) : undefined;
  const map = exports as Record<string, unknown>;
  if (!Object.keys(map).some((key) => key.startsWith("."))) return subpath === "." ? conditional(map) : undefined;
  if (map[subpath] !== undefined) return conditional(map[subpath]);
  for (const [key, value] of Object.entries(map)) {
    const star = key.indexOf("*");
    if (star < 0) continue;
    const [prefix, suffix] = [key.slice(0, star), key.slice(star + 1)];
    if (subpath.startsWith(prefix) && subpath.endsWith(suffix)) {
      const middle = subpath.slice(prefix.length, subpath.length - suffix.length);
      return conditional(value)?.replace("*", middle);
    }
  }
  return undefined;
}

/** Every module reachable from `entries` (static imports, re-exports, literal dynamic imports). */
function graph(entries: string[], options: { dependencies: boolean }): string[] {
  const seen = new Set<string>();
  const stack = [...entries];
  while (stack.length > 0) {
    const path = stack.pop()!;
    if (seen.has(path)) continue;
    seen.add(path);
    for (const specifier of info(path).imports) {
      const target = resolveImport(specifier, path);
      if (!target || seen.has(target)) continue;
      if (!options.dependencies && target.includes("/node_modules/")) continue;
      if (!/\.(m?[jt]s|cjs)$/.test(target)) continue;
      stack.push(target);
    }
  }
  return [...seen];
}

function withTopLevelAwait(paths: string[]): string[] {
  return paths
    .filter((path) => info(path).topLevelAwait !== undefined)
    .map((path) => `${relative(repoRoot, path)}:${info(path).topLevelAwait}`);
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "fixtures" ? [] : testFiles(path);
    return entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Files a worker thread starts from: `new Worker(new URL("./x.ts", import.meta.url))` in runtime/. */
function workerEntries(): string[] {
  const dir = join(repoRoot, "runtime");
  return readdirSync(dir)
    .filter((name) => name.endsWith(".ts"))
    .flatMap((name) => {
      const text = readFileSync(join(dir, name), "utf8");
      return [...text.matchAll(/new URL\(\s*"(\.\/[^"]+\.ts)"\s*,\s*import\.meta\.url\s*\)/g)].map((match) =>
        resolve(dir, match[1]!),
      );
    })
    .filter((path) => existsSync(path));
}

describe("module graphs: no top-level await (nodejs/node#53238)", function () {
  this.timeout(120_000);

  it("finds top-level await where there is some (the detector works)", () => {
    const binaryen = resolveImport("binaryen", join(repoRoot, "runtime", "instrument.ts"));
    expect(binaryen, "binaryen resolves").to.be.a("string");
    expect(info(binaryen!).topLevelAwait, "binaryen's index.js awaits its instantiation").to.be.a("number");
  });

  it("has none in the repository's modules that tests, services and worker threads import", () => {
    const services = ["relayer", "ingestor", "worker", "watcher", "runtime", "protocol", "client", "da"].flatMap(
      (dir) =>
        existsSync(join(repoRoot, dir))
          ? readdirSync(join(repoRoot, dir))
              .filter((name) => name.endsWith(".ts"))
              .map((name) => join(repoRoot, dir, name))
          : [],
    );
    const entries = [...testFiles(join(repoRoot, "test")), ...services, ...workerEntries()];
    const reached = graph(entries, { dependencies: false });
    expect(reached.length).to.be.greaterThan(50);
    expect(withTopLevelAwait(reached)).to.deep.equal([]);
  });

  it("has none anywhere in what a worker thread loads, dependencies included (so no binaryen)", () => {
    const entries = workerEntries();
    expect(entries.map((path) => relative(repoRoot, path))).to.include("runtime/poolWorker.ts");
    // The one exception: the loader thread exists to run binaryen. runtime/loader.ts never
    // terminates it before its module graph has evaluated (the next test pins that down).
    for (const entry of entries.filter((path) => relative(repoRoot, path) !== "runtime/loaderWorker.ts")) {
      const reached = graph([entry], { dependencies: true });
      expect(withTopLevelAwait(reached), relative(repoRoot, entry)).to.deep.equal([]);
      expect(
        reached.filter((path) => path.includes("/node_modules/binaryen/")),
        relative(repoRoot, entry),
      ).to.deep.equal([]);
    }
  });

  it("lets the loader thread (which runs binaryen) be terminated only after its evaluation ended", () => {
    const worker = readFileSync(join(repoRoot, "runtime", "loaderWorker.ts"), "utf8");
    const loader = readFileSync(join(repoRoot, "runtime", "loader.ts"), "utf8");
    expect(worker).to.match(/setImmediate\(\(\) => Atomics\.store\(signal, 1, 1\)\)/);
    // Every terminate() of a loader thread goes through LoaderThread.terminate, which waits for that flag.
    expect(loader.match(/\.worker\.terminate\(\)/g)).to.have.length(1);
    expect(loader).to.match(/Atomics\.load\(this\.signal, 1\) !== 1[\s\S]{0,200}this\.worker\.terminate\(\)/);
  });
});
