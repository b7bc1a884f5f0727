// Instruments the JavaScript engine in a child process (runtime/js/engine.ts runs it): binaryen.js
// leaks part of its stack on every module it instruments and the engine is large, so doing it in
// the node's own process would leave less room for the programs it instruments later.
// Argument: the page limit. Output: the instrumented module bytes on stdout.
import { writeSync } from "node:fs";
import { instrumentEngineHere } from "./engine.ts";

const pages = Number(process.argv[2]);
const bytes = instrumentEngineHere(pages);
let written = 0;
while (written < bytes.length) written += writeSync(1, bytes, written, bytes.length - written);
