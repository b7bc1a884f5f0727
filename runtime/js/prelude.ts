/**
 * The JavaScript every program's script runs after, inside the engine. It defines the one global
 * a program talks to, `versatus` (wrapped by the typed SDK in sdk/ts), and makes the language's
 * own sources of nondeterminism depend on the request only:
 * - `Math.random` is xoshiro128** seeded from the request id (the engine's clock reads the request
 *   timestamp, so `Date.now()` and `new Date()` are the request time, in UTC);
 * - there is no I/O: stdout is what the program passes to `versatus.write`/`versatus.output`,
 *   stderr what it logs with `console.*`; no timers, no modules, no host functions.
 * The runner calls `__versatus_finish` last; it is read-only, so a program cannot replace it.
 *
 * It is evaluated once into the engine snapshot (runtime/js/runner.ts) as `__versatus_setup`, which
 * each run calls first with (input ArrayBuffer, input decoded as UTF-8 by the engine, request, context or
 * null, seed words, stdout limit).
 */
export const PRELUDE_SOURCE = String.raw`(function (g) {
  "use strict";
  Object.defineProperty(g, "__versatus_setup", { value: function (inputBuffer, inputString, request, context, seed, outputLimit) {
  delete g.__versatus_setup;
  var define = function (o, k, v) { Object.defineProperty(o, k, { value: v, writable: false, enumerable: false, configurable: false }); };
  var out = [], outBytes = 0, err = [], errBytes = 0, exitCode = null, overflow = false, failure = null, pending = 0;
  function ExitSignal(code) { this.code = code; }
  function utf8Length(s) {
    var n = 0;
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++; }
      else n += 3;
    }
    return n;
  }
  // Exact UTF-8 byte counts only once the output could be near its limit (3 bytes per UTF-16 unit at most).
  var outUnits = 0, exact = false;
  function write(text) {
    text = String(text);
    outUnits += text.length;
    out.push(text);
    if (!exact && outUnits * 3 > outputLimit) {
      exact = true;
      outBytes = 0;
      for (var i = 0; i < out.length; i++) outBytes += utf8Length(out[i]);
    } else if (exact) outBytes += utf8Length(text);
    if (exact && outBytes > outputLimit) { overflow = true; throw new ExitSignal(null); }
  }
  function describe(value) {
    if (value instanceof Error) return String(value) + (value.stack ? "\n" + value.stack : "");
    try { return typeof value === "string" ? value : JSON.stringify(value); } catch (e) { return String(value); }
  }
  function log() {
    var parts = [];
    for (var i = 0; i < arguments.length; i++) parts.push(typeof arguments[i] === "string" ? arguments[i] : describe(arguments[i]));
    var line = parts.join(" ") + "\n";
    if (errBytes < 16384) { err.push(line); errBytes += line.length; }
  }
  var s0 = seed[0] | 0, s1 = seed[1] | 0, s2 = seed[2] | 0, s3 = seed[3] | 0;
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  function next32() {
    var result = Math.imul(((Math.imul(s1, 5) << 7) | (Math.imul(s1, 5) >>> 25)), 9);
    var t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
    return result >>> 0;
  }
  function random() { return (next32() * 2097152 + (next32() >>> 11)) / 9007199254740992; }
  function randomBytes(n) {
    var bytes = new Uint8Array(n);
    for (var i = 0; i < n; i += 4) { var w = next32(); for (var j = 0; j < 4 && i + j < n; j++) bytes[i + j] = (w >>> (8 * j)) & 255; }
    return bytes;
  }
  define(Math, "random", random);
  var input = new Uint8Array(inputBuffer);
  function inputText() { return inputString; }
  var api = {
    input: input,
    inputText: inputText,
    inputJson: function () { return JSON.parse(inputText()); },
    request: Object.freeze(request),
    context: context === null ? null : Object.freeze(context),
    random: random,
    randomBytes: randomBytes,
    write: write,
    output: function (value) { write(typeof value === "string" ? value : JSON.stringify(value)); },
    exit: function (code) {
      code = code | 0;
      exitCode = code;
      throw new ExitSignal(code);
    },
    run: function (main) {
      var result = main();
      if (result && typeof result.then === "function") {
        pending++;
        result.then(function (value) { pending--; if (value !== undefined && out.length === 0) api.output(value); },
          function (error) { pending--; if (failure === null) failure = error; });
      } else if (result !== undefined && out.length === 0) api.output(result);
    },
  };
  define(g, "versatus", Object.freeze(api));
  define(g, "console", Object.freeze({ log: log, info: log, warn: log, error: log, debug: log }));
  define(g, "__versatus_finish", function (error) {
    if (error !== undefined && failure === null) failure = error;
    if (failure instanceof ExitSignal) failure = null;
    var stdout = out.join("");
    if (overflow) return JSON.stringify(["output_limit", null, "", err.join("")]);
    if (exitCode !== null && exitCode !== 0) return JSON.stringify(["exit", exitCode, stdout, err.join("")]);
    if (exitCode === null && failure !== null) {
      log("uncaught " + describe(failure));
      return JSON.stringify(["uncaught", 1, stdout, err.join("")]);
    }
    if (exitCode === null && pending > 0) return JSON.stringify(["pending", 1, stdout, err.join("")]);
    return JSON.stringify(["ok", 0, stdout, err.join("")]);
  });
  }, writable: false, enumerable: false, configurable: true });
})(globalThis);`;
