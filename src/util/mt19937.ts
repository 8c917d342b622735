// The Mersenne Twister (MT19937, Matsumoto & Nishimura 1998, their mt19937ar.c) and the two Python
// generators built on it that SEAL's reference code draws from, reimplemented so that the same seed gives
// the same numbers here as there:
//   RandomState   numpy's legacy numpy.random.RandomState: an int seed through init_genrand, an array
//                 through init_by_array; randint's bounded integers by masked rejection on 32-bit draws;
//                 shuffle's Fisher–Yates by the same rejection (random_interval). SEAL draws ARC's random
//                 translations from RandomState(seed).
//   PyRandom      CPython's random module: seed(int) through init_by_array on the integer's 32-bit words;
//                 getrandbits, _randbelow (rejection on getrandbits(bit_length)), shuffle, sample. SEAL
//                 picks its continual-learning sequences with random.sample, its evaluation subsets with
//                 random.shuffle.
const N = 624;
const M = 397;

export class MT19937 {
  private readonly mt = new Uint32Array(N);
  private index = N + 1;

  /** init_genrand(s). */
  static fromSeed(seed: number): MT19937 {
    const g = new MT19937();
    g.initGenrand(seed >>> 0);
    return g;
  }

  /** init_by_array(key) (each entry taken mod 2³²). */
  static fromArray(key: readonly number[]): MT19937 {
    if (key.length === 0) throw new RangeError('MT19937: init_by_array needs a non-empty key');
    const g = new MT19937();
    const mt = g.mt;
    g.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1664525)) + (key[j] >>> 0) + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000; // most significant bit 1: a non-zero initial array
    return g;
  }

  /** An independent generator in the same state (Python's copy.deepcopy of a RandomState). */
  clone(): MT19937 {
    const g = new MT19937();
    g.mt.set(this.mt);
    g.index = this.index;
    return g;
  }

  /** genrand_int32: the next 32-bit output. */
  nextU32(): number {
    const mt = this.mt;
    if (this.index >= N) {
      for (let k = 0; k < N; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % N] & 0x7fffffff);
        mt[k] = mt[(k + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private initGenrand(seed: number): void {
    const mt = this.mt;
    mt[0] = seed;
    for (let i = 1; i < N; i++) mt[i] = (Math.imul(1812433253, mt[i - 1] ^ (mt[i - 1] >>> 30)) + i) >>> 0;
    this.index = N;
  }
}

/** The smallest 2^k − 1 ≥ n (n < 2³²). */
function mask32(n: number): number {
  let m = n;
  m |= m >>> 1;
  m |= m >>> 2;
  m |= m >>> 4;
  m |= m >>> 8;
  m |= m >>> 16;
  return m >>> 0;
}

/** numpy.random.RandomState (legacy seeding and the legacy integer algorithms; ranges below 2³²). */
export class RandomState {
  private constructor(private readonly mt: MT19937) {}

  /** RandomState(seed): an int in [0, 2³²) through init_genrand, a list through init_by_array. */
  static create(seed: number | readonly number[]): RandomState {
    const check = (s: number) => {
      if (!Number.isInteger(s) || s < 0 || s > 0xffffffff) throw new RangeError(`RandomState: seed ${s} must be an integer in [0, 2**32 - 1]`);
    };
    if (typeof seed === 'number') {
      check(seed);
      return new RandomState(MT19937.fromSeed(seed));
    }
    seed.forEach(check);
    return new RandomState(MT19937.fromArray(seed));
  }

  /** copy.deepcopy(rng): the same state, drawn from independently. */
  clone(): RandomState {
    return new RandomState(this.mt.clone());
  }

  /**
   * randint(low, high): an integer in [low, high). Legacy (masked) bounded integers: with r = high − 1 − low,
   * draw 32 bits, keep the lowest bits up to r's highest, reject values above r; r = 0 draws nothing.
   */
  randint(low: number, high: number): number {
    if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) throw new RangeError(`randint: need integers low < high, got ${low}, ${high}`);
    const range = high - 1 - low;
    if (range > 0xffffffff) throw new RangeError('randint: ranges of 2**32 or more are not implemented');
    if (range === 0) return low;
    if (range === 0xffffffff) return low + this.mt.nextU32();
    const mask = mask32(range);
    let v: number;
    do v = (this.mt.nextU32() & mask) >>> 0;
    while (v > range);
    return low + v;
  }

  /** shuffle(x) in place: for i = n − 1 … 1, swap x[i] with x[random_interval(i)] (masked rejection). */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const mask = mask32(i);
      let j: number;
      do j = (this.mt.nextU32() & mask) >>> 0;
      while (j > i);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

/** CPython's random.Random (the Mersenne Twister methods SEAL's scripts use). */
export class PyRandom {
  private constructor(private readonly mt: MT19937) {}

  /** random.seed(a) for an int: init_by_array on |a|'s 32-bit words, least significant first ([0] for 0). */
  static seed(a: number): PyRandom {
    if (!Number.isSafeInteger(a)) throw new RangeError(`PyRandom.seed: ${a} is not a safe integer`);
    let n = Math.abs(a);
    const key: number[] = [];
    do {
      key.push(n % 2 ** 32);
      n = Math.floor(n / 2 ** 32);
    } while (n > 0);
    return new PyRandom(MT19937.fromArray(key));
  }

  /** getrandbits(k) for 1 ≤ k ≤ 32: the top k bits of one output. */
  getrandbits(k: number): number {
    if (!(Number.isInteger(k) && k >= 1 && k <= 32)) throw new RangeError(`getrandbits: k = ${k} is outside 1 … 32`);
    return this.mt.nextU32() >>> (32 - k);
  }

  /** _randbelow(n): getrandbits(n.bit_length()) until below n. */
  randbelow(n: number): number {
    if (!(Number.isInteger(n) && n >= 1 && n <= 0xffffffff)) throw new RangeError(`randbelow: n = ${n} is outside 1 … 2**32 − 1`);
    const k = 32 - Math.clz32(n);
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }

  /** random.shuffle(x) in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** random.sample(population, k): k distinct items, by a pool for small populations or a set of drawn indices. */
  sample<T>(population: readonly T[], k: number): T[] {
    const n = population.length;
    if (!(Number.isInteger(k) && k >= 0 && k <= n)) throw new RangeError(`sample: k = ${k} is larger than the population (${n}) or negative`);
    let setsize = 21; // size of a small set minus the size of an empty list
    if (k > 5) setsize += 4 ** Math.ceil(Math.log(k * 3) / Math.log(4)); // table size for big sets
    const result: T[] = [];
    if (n <= setsize) {
      const pool = [...population];
      for (let i = 0; i < k; i++) {
        const j = this.randbelow(n - i);
        result.push(pool[j]);
        pool[j] = pool[n - i - 1]; // move the non-selected item into the vacancy
      }
    } else {
      const selected = new Set<number>();
      for (let i = 0; i < k; i++) {
        let j = this.randbelow(n);
        while (selected.has(j)) j = this.randbelow(n);
        selected.add(j);
        result.push(population[j]);
      }
    }
    return result;
  }
}
