/**
 * Symbol lookup for JSON requests: by exact name ("BTC/USD"), by a friendly spelling ("btc-usd",
 * "BTC_USD", "btcusd": case-insensitive, separators ignored), or by numeric id; plus each symbol's
 * public JSON description.
 * Built once from the symbol table. Thread-safety: immutable after construction.
 */

import { normalizeWord } from '../orders/OrderVocabulary.js';
import type { SymbolSpec } from '../symbols/SymbolTable.js';

export interface SymbolJson {
  readonly symbol_id: number;
  readonly symbol: string;
  readonly tick_size: string;
  readonly lot_size: string;
  readonly min_quantity: string;
  readonly max_quantity: string;
  readonly price_band_bps: number;
}

export class SymbolDirectory {
  readonly symbols: readonly SymbolSpec[];
  private readonly byId: Map<number, SymbolSpec>;
  private readonly byKey: Map<string, SymbolSpec>;

  constructor(symbols: readonly SymbolSpec[]) {
    this.symbols = symbols;
    this.byId = new Map(symbols.map((s) => [s.id, s]));
    this.byKey = new Map();
    const ambiguous = new Set<string>();
    for (const s of symbols) {
      const key = normalizeWord(s.name);
      if (this.byKey.has(key)) ambiguous.add(key);
      this.byKey.set(key, s);
    }
    // Note: two names that differ only in separators would be ambiguous: those need the exact name.
    for (const key of ambiguous) this.byKey.delete(key);
    for (const s of symbols) this.byKey.set(s.name, s);
  }

  /** The symbol named (or numbered) by `ref`, or undefined. */
  find(ref: unknown): SymbolSpec | undefined {
    if (typeof ref === 'number') return Number.isInteger(ref) ? this.byId.get(ref) : undefined;
    if (typeof ref !== 'string') return undefined;
    return this.byKey.get(ref) ?? this.byKey.get(normalizeWord(ref)) ?? this.idFromText(ref);
  }

  byIdOrUndefined(id: number): SymbolSpec | undefined {
    return this.byId.get(id);
  }

  names(): string[] {
    return this.symbols.map((s) => s.name);
  }

  private idFromText(ref: string): SymbolSpec | undefined {
    return /^\d{1,5}$/.test(ref) ? this.byId.get(Number(ref)) : undefined;
  }
}
