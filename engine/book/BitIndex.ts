/**
 * A hierarchical bitset over 0..size-1 answering "next set index >= i" and "previous set index <= i"
 * in O(log32 size) word operations: how a price ladder finds its next best level without scanning.
 *
 * Layer 0 has one bit per index; bit j of layer k+1 is set when word j of layer k is non-zero. The
 * top layer is a single word. With size 2^24 there are 5 layers, so a search touches at most 10 words.
 * Memory: about size/8 * 32/31 bytes. No allocation after construction.
 * Thread-safety: single-threaded.
 */
import { EngineConfigError } from '../EngineError.js';

/** Largest supported size (2^30 keeps word indexes in int32 range). */
export const MAX_BIT_INDEX_SIZE = 2 ** 30;

export function checkCapacity(size: number): void {
  if (!Number.isInteger(size) || size < 1 || size > MAX_BIT_INDEX_SIZE) {
    throw new EngineConfigError(`BitIndex size must be an integer in 1..${MAX_BIT_INDEX_SIZE}, got ${size}`);
  }
}

/** Index of the lowest set bit of a non-zero 32-bit word. */
function lowBit(w: number): number {
  return 31 - Math.clz32(w & -w);
}

/** Index of the highest set bit of a non-zero 32-bit word. */
function highBit(w: number): number {
  return 31 - Math.clz32(w);
}

export class BitIndex {
  readonly size: number;
  private readonly layers: Uint32Array[];
  private readonly depth: number;

  constructor(size: number) {
    checkCapacity(size);
    this.size = size;
    const layers: Uint32Array[] = [];
    let n = size;
    do {
      const words = (n + 31) >>> 5;
      layers.push(new Uint32Array(words));
      n = words;
    } while (n > 1);
    this.layers = layers;
    this.depth = layers.length;
  }

  has(i: number): boolean {
    return (this.layers[0][i >>> 5] & (1 << (i & 31))) !== 0;
  }

  set(i: number): void {
    const layers = this.layers;
    for (let k = 0; k < this.depth; k++) {
      const layer = layers[k];
      const w = i >>> 5;
      const before = layer[w];
      layer[w] = before | (1 << (i & 31));
      if (before !== 0) return;
      i = w;
    }
  }

  clear(i: number): void {
    const layers = this.layers;
    for (let k = 0; k < this.depth; k++) {
      const layer = layers[k];
      const w = i >>> 5;
      const after = layer[w] & ~(1 << (i & 31));
      layer[w] = after;
      if (after !== 0) return;
      i = w;
    }
  }

  /** Smallest set index >= i, or -1. */
  next(i: number): number {
    if (i < 0) i = 0;
    if (i >= this.size) return -1;
    const layers = this.layers;
    let k = 0;
    // Climb until a word holds a set bit at or after the position.
    for (;;) {
      const w = i >>> 5;
      const layer = layers[k];
      if (w < layer.length) {
        const bits = layer[w] & (-1 << (i & 31));
        if (bits !== 0) {
          i = (w << 5) + lowBit(bits);
          break;
        }
      }
      if (k === this.depth - 1) return -1;
      i = w + 1;
      k++;
    }
    // Descend taking the lowest set bit.
    while (k > 0) {
      k--;
      i = (i << 5) + lowBit(layers[k][i]);
    }
    return i;
  }

  /** Largest set index <= i, or -1. */
  prev(i: number): number {
    if (i >= this.size) i = this.size - 1;
    if (i < 0) return -1;
    const layers = this.layers;
    let k = 0;
    for (;;) {
      const w = i >>> 5;
      const bits = layers[k][w] & (-1 >>> (31 - (i & 31)));
      if (bits !== 0) {
        i = (w << 5) + highBit(bits);
        break;
      }
      if (k === this.depth - 1 || w === 0) return -1;
      i = w - 1;
      k++;
    }
    while (k > 0) {
      k--;
      i = (i << 5) + highBit(layers[k][i]);
    }
    return i;
  }
}
