import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { bytesToHex, getAddress, keccak256, toHex, zeroAddress, type Hex } from "viem";
import { Op } from "../../protocol/instructions.ts";
import {
  contextEnvironment,
  contextFromJson,
  contextOfRequest,
  contextToJson,
  type ProgramContext,
} from "../../protocol/programContext.ts";
import {
  buildRecordBody,
  decodeRecord,
  encodeRecord,
  recordBodyHash,
  recordContext,
  recordFromJson,
  recordToJson,
} from "../../protocol/record.ts";
import { ResultStatus } from "../../protocol/result.ts";
import { ALLOWED_REQUESTER, contextPackage } from "../fixtures/context/index.ts";
import {
  address,
  builtProgram,
  ORIGIN_CHAIN,
  OTHER_CHAIN,
  preparedProgram,
  repoRoot,
  requestFor,
  text,
  useRuntime,
} from "../fixtures/programs.ts";
import { sampleRecord } from "../fakes/records.ts";

const REQUEST_ID = keccak256(toHex("context request"));
const OMNI = getAddress(address(3));

function contextWith(overrides: Partial<ProgramContext> = {}): ProgramContext {
  return {
    requestId: REQUEST_ID,
    originChainId: ORIGIN_CHAIN,
    oracle: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    requester: ALLOWED_REQUESTER.toLowerCase() as Hex,
    asset: zeroAddress,
    amount: 1000n,
    fee: 10n,
    blockNumber: 42n,
    timestamp: 1_700_000_000n,
    programId: `0x${"ab".repeat(32)}`,
    ...overrides,
  };
}

/** A runtime request carrying `context` (its id, clock and origin are the context's). */
const withContext = (input: unknown, context: ProgramContext) =>
  requestFor(input, {
    requestId: context.requestId,
    timestamp: context.timestamp,
    originChainId: context.originChainId,
    context,
  });

/** The environment bytes a program reads with environ_get: each line NUL-terminated. */
const environBytes = (context: ProgramContext) => contextEnvironment(context).join("\0") + "\0";

describe("programs: the request context (WASI environment, record body, SDK examples, CLI)", function () {
  this.timeout(120_000);
  const runtime = useRuntime(2);
  const runWith = (name: string, input: unknown, context: ProgramContext | undefined) =>
    runtime().execute(
      preparedProgram(name),
      context ? withContext(input, context) : requestFor(input, { requestId: REQUEST_ID }),
    );

  describe("the runtime serves the context as the environment", () => {
    const echo = contextPackage("context-echo");
    const load = () => runtime().load(echo);

    it("gives the program exactly contextEnvironment(context), in order, on every pool worker", async () => {
      const context = contextWith({ programId: echo.programId });
      const runs = await Promise.all(
        Array.from({ length: 6 }, async () => runtime().execute(await load(), withContext("{}", context))),
      );
      for (const outcome of runs) {
        expect(outcome.outcome).to.equal("ok");
        expect(text(outcome.stderr)).to.equal(environBytes(context));
      }
      expect(new Set(runs.map((r) => r.fuelUsed))).to.have.property("size", 1);
      expect(text(runs[0]!.stderr)).to.contain(`VERSATUS_REQUESTER=${ALLOWED_REQUESTER.toLowerCase()}\0`);
      expect(text(runs[0]!.stderr)).to.contain("VERSATUS_AMOUNT=1000\0VERSATUS_FEE=10\0");
    });

    it("refuses a context that disagrees with the request's id, clock or origin", async () => {
      const program = await load();
      const context = contextWith({ programId: echo.programId });
      const request = withContext("{}", context);
      for (const wrong of [
        { ...request, requestId: keccak256(toHex("another")) },
        { ...request, timestamp: request.timestamp + 1n },
        { ...request, originChainId: OTHER_CHAIN },
      ]) {
        expect(() => runtime().execute(program, wrong)).to.throw(TypeError, /must equal the request's/);
      }
    });

    it("gives an empty environment when the request has no context", async () => {
      const outcome = await runtime().execute(await load(), requestFor("{}"));
      expect(outcome.outcome).to.equal("ok");
      expect(outcome.stderr).to.have.length(0);
    });

    it("spells addresses and ids the same whatever case a node got them in", async () => {
      const lower = contextWith({ programId: echo.programId });
      const mixed = { ...lower, requester: ALLOWED_REQUESTER as Hex, oracle: getAddress(lower.oracle) };
      const [a, b] = await Promise.all(
        [lower, mixed].map(async (context) => runtime().execute(await load(), withContext("{}", context))),
      );
      expect(bytesToHex(a!.stderr)).to.equal(bytesToHex(b!.stderr));
    });
  });

  describe("a program that refuses every requester but one", () => {
    const only = contextPackage("only-requester");

    it("runs for the allowed requester and refuses anyone else (PROGRAM_ERROR, nothing paid)", async () => {
      const program = await runtime().load(only);
      const allowed = await runtime().execute(program, withContext("{}", contextWith()));
      expect(allowed.outcome).to.equal("ok");
      const other = contextWith({ requester: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" });
      const refused = await runtime().execute(program, withContext("{}", other));
      expect(refused.outcome).to.equal("exit");
      expect(refused.exitCode).to.equal(3);
      expect(text(refused.stderr)).to.equal("refused: only one requester may call this program\n");
      // no context at all is no requester either
      expect((await runtime().execute(program, requestFor("{}"))).exitCode).to.equal(3);
    });
  });

  describe("payout-splitter (C, sdk/c/versatus.h): splits the escrow minus the fee", () => {
    const recipients = [
      { to: address(1), weight: 1 },
      { to: address(2), weight: 2 },
    ];
    const paid = (outcome: Awaited<ReturnType<typeof runWith>>) =>
      (outcome.instructions?.get(ORIGIN_CHAIN) ?? []).map((ix) => ix.amount);

    it("needs no amount in its input", async () => {
      const outcome = await runWith("payout-splitter", { recipients }, contextWith({ amount: 1000n, fee: 10n }));
      expect(outcome.outcome).to.equal("ok");
      expect(paid(outcome)).to.deep.equal([330n, 660n]); // 990 by weights 1:2
      expect(outcome.stderr).to.have.length(0);
    });

    it('pays a share back to the requester: "to": "requester"', async () => {
      const back = {
        recipients: [
          { to: address(1), weight: 1 },
          { to: "requester", weight: 1 },
        ],
      };
      const outcome = await runWith("payout-splitter", back, contextWith({ amount: 1010n, fee: 10n }));
      expect(outcome.outcome).to.equal("ok");
      const transfers = outcome.instructions!.get(ORIGIN_CHAIN)!;
      expect(transfers.map((ix) => [ix.target, ix.amount])).to.deep.equal([
        [getAddress(address(1)), 500n],
        [getAddress(ALLOWED_REQUESTER), 500n],
      ]);
      const bare = await runWith("payout-splitter", { ...back, amount: "2" }, undefined);
      expect(text(bare.stderr)).to.contain('"requester" needs a request context');
    });

    it("ignores an input that lies about the amount: it pays what was escrowed", async () => {
      const lie = { amount: "1000000000000000000000000", recipients };
      const outcome = await runWith("payout-splitter", lie, contextWith({ amount: 1000n, fee: 10n }));
      expect(outcome.outcome).to.equal("ok");
      expect(paid(outcome)).to.deep.equal([330n, 660n]);
      expect(paid(outcome).reduce((a, b) => a + b)).to.equal(990n);
      expect(text(outcome.stderr)).to.contain('ignoring the input\'s "amount"');
    });

    it("refuses an escrow that does not cover the fee", async () => {
      const outcome = await runWith("payout-splitter", { recipients }, contextWith({ amount: 10n, fee: 10n }));
      expect(outcome.outcome).to.equal("exit");
      expect(text(outcome.stderr)).to.contain("leaves nothing after the fee");
    });

    it("takes the input's amount only when the run has no context at all", async () => {
      const bare = await runWith("payout-splitter", { amount: "9", recipients }, undefined);
      expect(paid(bare)).to.deep.equal([3n, 6n]);
      const missing = await runWith("payout-splitter", { recipients }, undefined);
      expect(missing.outcome).to.equal("exit");
      expect(text(missing.stderr)).to.contain("no request context");
    });
  });

  describe("token-mover (AssemblyScript, sdk/assemblyscript): mints to the requester by default", () => {
    it("moves the whole escrow minus the fee of the escrowed token to the requester", async () => {
      const context = contextWith({ asset: OMNI, amount: 5000n, fee: 10n });
      const outcome = await runWith("token-mover", { destinationChainId: Number(OTHER_CHAIN) }, context);
      expect(outcome.outcome).to.equal("ok");
      expect(outcome.instructions?.get(ORIGIN_CHAIN)).to.deep.equal([
        { op: Op.BURN, target: OMNI, amount: 4990n, data: "0x" },
      ]);
      const [mint] = outcome.instructions!.get(OTHER_CHAIN)!;
      expect(mint).to.include({ op: Op.MINT, target: getAddress(ALLOWED_REQUESTER), amount: 4990n });
    });

    it("still takes an explicit recipient, token and amount", async () => {
      const input = { token: OMNI, to: address(4), amount: "7", destinationChainId: Number(OTHER_CHAIN) };
      const outcome = await runWith("token-mover", input, contextWith({ asset: OMNI }));
      const [mint] = outcome.instructions!.get(OTHER_CHAIN)!;
      expect(mint).to.include({ target: getAddress(address(4)), amount: 7n });
    });

    it("has no default without a context, and none for an ETH escrow's token", async () => {
      const bare = await runWith("token-mover", { destinationChainId: 31338 }, undefined);
      expect(bare.outcome).to.equal("exit");
      expect(text(bare.stderr)).to.contain('missing "token"');
      const eth = await runWith("token-mover", { destinationChainId: 31338 }, contextWith());
      expect(text(eth.stderr)).to.contain('missing "token"');
    });
  });

  describe("raffle (Rust, sdk/rust/versatus.rs): the prize defaults to the escrow minus the fee", () => {
    it("splits escrow minus fee between the winners when the input names no prize", async () => {
      const entries = [address(1), address(2), address(3)];
      const outcome = await runWith("raffle", { winners: 2, entries }, contextWith({ amount: 1001n, fee: 1n }));
      expect(outcome.outcome).to.equal("ok");
      const amounts = (outcome.instructions?.get(ORIGIN_CHAIN) ?? []).map((ix) => ix.amount);
      expect(amounts).to.deep.equal([500n, 500n]);
    });
  });

  describe("the execution record body covers the context (SPEC 5, record version 2)", () => {
    const run = { input: "0x7b7d" as Hex, status: ResultStatus.OK, stdout: "0x" as Hex, stderr: "0x" as Hex };
    const body = (context: ProgramContext) => buildRecordBody(context, { ...run, fuelUsed: 7n, instructions: [] });

    it("every context field changes bodyHash", () => {
      const base = recordBodyHash(body(contextWith()));
      const changes: Partial<ProgramContext>[] = [
        { requester: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" },
        { asset: OMNI },
        { amount: 1001n },
        { fee: 11n },
        { blockNumber: 43n },
        { timestamp: 1_700_000_001n },
        { oracle: "0x0000000000000000000000000000000000000001" },
      ];
      for (const change of changes)
        expect(recordBodyHash(body(contextWith(change))), Object.keys(change).join()).to.not.equal(base);
    });

    it("round-trips the context through the record's bytes and JSON, and rejects version 1 records", () => {
      const context = contextWith();
      const record = { ...sampleRecord(3), body: body(context) };
      record.signatures = record.signatures.filter((s) => s.chainId === ORIGIN_CHAIN);
      const decoded = decodeRecord(encodeRecord(record));
      expect(recordContext(decoded.body)).to.deep.equal(contextWith());
      expect(recordBodyHash(recordFromJson(JSON.parse(JSON.stringify(recordToJson(record)))).body)).to.equal(
        recordBodyHash(record.body),
      );
      const bytes = encodeRecord(record);
      bytes[31] = 1;
      expect(() => decodeRecord(bytes)).to.throw(/record\.version/);
    });

    it("contextOfRequest builds the same context from a request event, and the JSON form round-trips", () => {
      const context = contextOfRequest(
        {
          chainId: "31337",
          oracle: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
          requestId: REQUEST_ID,
          programId: `0x${"AB".repeat(32)}`,
          requester: ALLOWED_REQUESTER,
          token: zeroAddress,
          amount: "1000",
          blockNumber: "42",
          blockTimestamp: "1700000000",
        },
        10n,
      );
      expect(context).to.deep.equal(contextWith());
      expect(contextFromJson(contextToJson(context))).to.deep.equal(context);
      expect(() => contextFromJson({ ...contextToJson(context), amount: "-1" })).to.throw(/context\.amount/);
    });
  });

  describe("versatus program run|simulate take the context as flags", () => {
    const versatus = (args: string[], input: string) =>
      spawnSync(process.execPath, [join(repoRoot, "cli", "bin.js"), "program", ...args], {
        cwd: repoRoot,
        input,
        encoding: "utf8",
      });
    const recipients = JSON.stringify({ recipients: [{ to: address(1), weight: 1 }] });

    it("runs with the flags' context, prints it, and shows the escrow minus the fee being split", () => {
      const result = versatus(
        [
          "run",
          "programs/payout-splitter",
          "--input",
          "-",
          "--value",
          "5000",
          "--fee",
          "100",
          "--requester",
          address(7),
        ],
        recipients,
      );
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout).to.match(/VERSATUS_REQUESTER\s+0x7{40}/);
      expect(result.stdout).to.match(/VERSATUS_AMOUNT\s+5000/);
      expect(result.stdout).to.contain("TRANSFER target 0x1111111111111111111111111111111111111111 amount 4900");
    });

    it("has defaults, prints the context as JSON, and simulate's bodyHash is the record body's", () => {
      const result = versatus(["simulate", "programs/payout-splitter", "--input", "-", "--json"], recipients);
      expect(result.status, result.stderr).to.equal(0);
      const json = JSON.parse(result.stdout);
      const pkg = builtProgram("payout-splitter").package;
      expect(json.context).to.deep.include({
        requester: ALLOWED_REQUESTER.toLowerCase(),
        amount: "1000000000000000000",
        fee: "0",
        asset: zeroAddress,
        originChainId: "31337",
        programId: pkg.programId,
      });
      const context = contextFromJson(json.context);
      const expected = buildRecordBody(context, {
        input: toHex(recipients),
        status: ResultStatus.OK,
        stdout: toHex(json.stdout),
        stderr: "0x",
        fuelUsed: BigInt(json.fuelUsed),
        instructions: [
          {
            chainId: ORIGIN_CHAIN,
            instructions: [{ op: Op.TRANSFER, target: getAddress(address(1)), amount: 10n ** 18n, data: "0x" }],
          },
        ],
      });
      expect(json.bodyHash).to.equal(recordBodyHash(expected));
      expect(json.ingest[0].result.bodyHash).to.equal(json.bodyHash);
    });

    it("refuses a malformed flag, naming it", () => {
      const result = versatus(["run", "programs/payout-splitter", "--input", "-", "--requester", "0x12"], recipients);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.contain("--requester");
    });
  });
});
