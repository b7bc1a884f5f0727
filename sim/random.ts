/**
 * A seeded pseudo-random source for the simulation: the same seed gives the same sequence on every
 * machine (32-bit integer arithmetic only: a counter stepped by the golden-ratio constant, then
 * mixed by multiply-xorshift rounds). Not for anything secret.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    this.state = seed | 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4_294_967_296;
  }

  /** Uniform in [min, max). */
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Exponentially distributed with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** 32 random bytes as 0x hex (request ids). */
  bytes32(): `0x${string}` {
    let hex = "0x";
    for (let i = 0; i < 8; i++)
      hex += Math.floor(this.next() * 4_294_967_296)
        .toString(16)
        .padStart(8, "0");
    return hex as `0x${string}`;
  }
}
