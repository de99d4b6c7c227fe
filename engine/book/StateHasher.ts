/**
 * The hash behind `stateHash()`: a stream of non-negative integers (<= 2^53-1) folded into 64 bits.
 *
 * Each integer is split into its low and high 32-bit words and mixed into two independent 32-bit
 * lanes with the MurmurHash3 x86_32 block step (seeds 0x9747b28c and 0x2f1b5c3d); `digest()` applies
 * the MurmurHash3 finaliser to both lanes (with the count of integers) and returns 16 hex digits.
 * What is fed, and in which order, is specified in docs/matching.md ("State hash"); every engine
 * implementation (fast book, reference book) uses this class so their hashes are comparable.
 * Not cryptographic; not on the hot path (allocates one string per digest).
 * Thread-safety: an instance is single-threaded.
 */

const TWO_32 = 4294967296;

function mix(h: number, k: number): number {
  let x = Math.imul(k, 0xcc9e2d51);
  x = (x << 15) | (x >>> 17);
  x = Math.imul(x, 0x1b873593);
  let y = h ^ x;
  y = (y << 13) | (y >>> 19);
  return (Math.imul(y, 5) + 0xe6546b64) | 0;
}

function fmix(h: number, n: number): number {
  let x = h ^ n;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

export class StateHasher {
  private a: number;
  private b: number;
  private n: number;

  constructor() {
    this.a = 0x9747b28c | 0;
    this.b = 0x2f1b5c3d | 0;
    this.n = 0;
  }

  /** Feeds one integer 0 <= x <= 2^53-1 (other values are fed by their low/high words as computed). */
  add(x: number): void {
    const lo = x >>> 0;
    const hi = Math.floor(x / TWO_32) >>> 0;
    this.a = mix(mix(this.a, lo), hi);
    this.b = mix(mix(this.b, hi), lo);
    this.n++;
  }

  /** 16 lowercase hex digits. */
  digest(): string {
    const a = fmix(this.a, this.n);
    const b = fmix(this.b, this.n ^ 0x5bd1e995);
    return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
  }
}
