/**
 * Base of the order indexes: an open-addressing hash table (linear probing, power-of-two size) of
 * order slots, with backward-shift deletion so there are no tombstones and lookups stay short.
 *
 * The table stores `slot + 1` (0 = empty); keys live in the OrderPool columns and subclasses define
 * the hash of a slot's key (and their own `find` for an external key). Size is at least twice the
 * order capacity, so the load factor stays <= 0.5. No allocation after construction.
 * Thread-safety: single-threaded (the shard's thread).
 */
export abstract class OpenAddressingIndex {
  protected readonly table: Int32Array;
  protected readonly mask: number;

  constructor(capacity: number) {
    let size = 2;
    while (size < capacity * 2) size *= 2;
    this.table = new Int32Array(size);
    this.mask = size - 1;
  }

  /** Hash (any int) of the key held by order slot `s`. */
  protected abstract hashOf(s: number): number;

  insert(s: number): void {
    const t = this.table;
    const mask = this.mask;
    let i = this.hashOf(s) & mask;
    while (t[i] !== 0) i = (i + 1) & mask;
    t[i] = s + 1;
  }

  /** Removes slot `s` (which must be present). */
  remove(s: number): void {
    const t = this.table;
    const mask = this.mask;
    let i = this.hashOf(s) & mask;
    while (t[i] !== s + 1) i = (i + 1) & mask;
    // Backward shift: pull later entries of the probe run into the hole when allowed.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const e = t[j];
      if (e === 0) break;
      const k = this.hashOf(e - 1) & mask;
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (stays) continue;
      t[i] = e;
      i = j;
    }
    t[i] = 0;
  }
}
