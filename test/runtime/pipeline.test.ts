import { expect } from "chai";
import { address, OTHER_CHAIN, preparedProgram, prepareWat, requestFor, useRuntime } from "../fixtures/programs.ts";

describe("runtime: pipelines", function () {
  this.timeout(120_000);
  const runtime = useRuntime(1);

  it("feeds each step's stdout to the next and sums the fuel", async () => {
    // The read-env fixture ignores its stdin and prints {"actions":[]}: two of them chain.
    const first = preparedProgram("hostile-read-env");
    const outcome = await runtime().executePipeline([first, first], requestFor("{}"));
    expect(outcome.outcome).to.equal("ok");
    expect(outcome.steps.map((step) => step.outcome)).to.deep.equal(["ok", "ok"]);
    expect(outcome.fuelUsed).to.equal(outcome.steps[0]!.fuelUsed + outcome.steps[1]!.fuelUsed);
    expect(outcome.instructions?.size).to.equal(0);
    expect(outcome.failedStep).to.equal(null);
  });

  it("parses only the last step's output as instructions", async () => {
    const mover = preparedProgram("token-mover");
    const input = { token: address(3), to: address(4), amount: "5", destinationChainId: Number(OTHER_CHAIN) };
    const outcome = await runtime().executePipeline([mover], requestFor(input));
    expect(outcome.outcome).to.equal("ok");
    expect([...outcome.instructions!.keys()]).to.deep.equal([31337n, OTHER_CHAIN]);
  });

  it("is atomic: a failing step ends the pipeline with its outcome and no instructions", async () => {
    const ok = preparedProgram("hostile-read-env");
    const failing = prepareWat("divide-by-zero");
    const outcome = await runtime().executePipeline([ok, failing, ok], requestFor("{}"));
    expect(outcome.outcome).to.equal("trap");
    expect(outcome.failedStep).to.equal(1);
    expect(outcome.steps).to.have.length(2);
    expect(outcome.message).to.match(/^step 1 \(divide-by-zero\): trapped/);
    expect(outcome.instructions).to.equal(undefined);
  });

  it("ends with a middle step's exit when its input does not suit it", async () => {
    const splitter = preparedProgram("payout-splitter");
    const input = { amount: "10", recipients: [{ to: address(1), weight: 1 }] };
    // The splitter's output is not a splitter input: the second step exits 2.
    const outcome = await runtime().executePipeline([splitter, splitter], requestFor(input));
    expect(outcome.outcome).to.equal("exit");
    expect(outcome.failedStep).to.equal(1);
  });

  it("reports output that is not SPEC 4 JSON as invalid_output naming the field", async () => {
    const outcome = await runtime().executePipeline([prepareWat("bad-output")], requestFor("{}"));
    expect(outcome.outcome).to.equal("invalid_output");
    expect(outcome.message).to.equal(
      'Invalid actions[0].op: expected one of transfer, call, mint, burn, create (got "steal")',
    );
    expect(outcome.exitCode).to.equal(0);
  });
});
