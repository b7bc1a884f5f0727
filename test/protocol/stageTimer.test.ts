import { expect } from "chai";
import { stageTimer } from "../../protocol/stageTimer.ts";

describe("protocol/stageTimer: the milliseconds of each stage of one job", () => {
  it("charges each mark with the time since the previous mark, and adds up a stage marked twice", () => {
    const clock = [1_000, 1_012.34, 1_050, 1_051, 1_100];
    const stages = stageTimer(() => clock.shift()!);
    stages.mark("fee");
    stages.mark("execute");
    stages.mark("fee");
    stages.mark("publish");
    expect(stages.ms).to.deep.equal({ fee: 13.3, execute: 37.7, publish: 49 });
  });
});
