/**
 * Bit-exact port of numpy's legacy `np.random.RandomState` for the calls the reference metric tools make:
 * MT19937 seeded with an integer (`init_genrand`), `random_sample` (53-bit doubles), `standard_normal`
 * (legacy polar Box–Muller with the cached second value), `permutation(n)`, `shuffle` and
 * `choice(n, size, replace=False)` (which legacy RandomState implements as `permutation(n)[:size]`).
 *
 * torch-fidelity draws its KID subsets with `RandomState(2020).choice(n1, m, replace=False)` then
 * `.choice(n2, m, replace=False)` for each subset, all from one stream, and shuffles Inception-Score rows with
 * `RandomState(2020).permutation(N)`; reproducing those index sets exactly makes KID/IS identical to the reference on
 * the same features. (numpy's legacy stream is frozen across numpy versions by its compatibility policy.)
 *
 * Sources (numpy): `random/_mt19937.pyx::_legacy_seeding` (integer seed → `mt19937_seed`),
 * `random/src/mt19937/mt19937.c`, `random/mtrand.pyx::RandomState.shuffle/permutation/choice`,
 * `random/src/distributions/distributions.c::random_interval`, `legacy-distributions.c::legacy_gauss`.
 */

const N = 624;
const M = 397;

export class NumpyRandomState {
  private readonly mt = new Uint32Array(N);
  private mti = N;
  private hasGauss = false;
  private gauss = 0;

  /** `np.random.RandomState(seed)` with an integer seed in [0, 2^32 − 1]. */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`RandomState seed must be an integer between 0 and 2**32 - 1, got ${seed}`);
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * prev + i  (mod 2^32) without losing precision
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.mti = N;
  }

  private generate(): void {
    const mt = this.mt;
    let kk = 0;
    let y: number;
    for (; kk < N - M; kk++) {
      y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
      mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    for (; kk < N - 1; kk++) {
      y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
      mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    y = (mt[N - 1] & 0x80000000) | (mt[0] & 0x7fffffff);
    mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    this.mti = 0;
  }

  /** Next raw 32-bit output (`random_raw` / `mt19937_next32`). */
  nextUint32(): number {
    if (this.mti >= N) this.generate();
    let y = this.mt[this.mti++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `random_sample()`: (a·2^26 + b) / 2^53 with a = next32 >> 5, b = next32 >> 6. */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  /** Fills `out` with `random_sample` values (row-major order, as numpy fills a shaped array). */
  randomSampleArray(count: number): Float64Array {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = this.randomSample();
    return out;
  }

  /**
   * `standard_normal()` / `randn()`: legacy polar Box–Muller (`legacy_gauss`). Uses Math.log, which may differ
   * from the C library's `log` in the last bit on rare inputs; everything else is bit-exact.
   */
  standardNormal(): number {
    if (this.hasGauss) {
      this.hasGauss = false;
      const t = this.gauss;
      this.gauss = 0;
      return t;
    }
    let x1: number, x2: number, r2: number;
    do {
      x1 = 2.0 * this.randomSample() - 1.0;
      x2 = 2.0 * this.randomSample() - 1.0;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 === 0.0);
    const f = Math.sqrt((-2.0 * Math.log(r2)) / r2);
    this.gauss = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  standardNormalArray(count: number): Float64Array {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = this.standardNormal();
    return out;
  }

  /** `random_interval(max)`: uniform integer in [0, max] by masked rejection on 32-bit draws (max < 2^32). */
  interval(max: number): number {
    if (max === 0) return 0;
    if (max > 0xffffffff) throw new RangeError('interval: max above 2^32 - 1 is not supported');
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    do {
      v = (this.nextUint32() & mask) >>> 0;
    } while (v > max);
    return v;
  }

  /** In-place `shuffle` of a 1-D array: for i = n−1 … 1, j = interval(i), swap a[i], a[j]. */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** `permutation(n)`: shuffle of arange(n). */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`permutation: n must be a non-negative integer, got ${n}`);
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    return this.shuffle(a);
  }

  /**
   * `choice(n, size, replace=False)` with p=None: legacy RandomState returns `permutation(n)[:size]`
   * (consuming n−1 interval draws regardless of size).
   */
  choiceWithoutReplacement(n: number, size: number): Int32Array {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`choice: size must be a non-negative integer, got ${size}`);
    if (size > n) throw new RangeError("Cannot take a larger sample than population when 'replace=False'");
    return this.permutation(n).slice(0, size);
  }
}
