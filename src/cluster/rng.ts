/** SplitMix64 in JavaScript: the same seeded sequence on every platform. */
export class Rng {
  #state: bigint;

  constructor(seed: number) {
    this.#state = BigInt.asUintN(64, BigInt(Math.floor(seed)));
  }

  #next(): bigint {
    this.#state = BigInt.asUintN(64, this.#state + 0x9e3779b97f4a7c15n);
    let z = this.#state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  }

  /** Uniform in [0, n). */
  below(n: number): number {
    return Number((this.#next() >> 11n) % BigInt(n));
  }
}
