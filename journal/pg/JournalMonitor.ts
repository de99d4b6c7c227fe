/**
 * How far PostgreSQL is behind the WAL, for health and metrics, read on the main thread.
 *
 * The journal worker writes `journal_progress` (per shard: the last WAL command seq whose rows are
 * all committed) in the same transaction as the rows; this polls it every `intervalMs` (one small
 * query on the REST history pool, off the hot path) and compares it with the durable WAL seq the
 * pipeline publishes in shared memory: lag = durable - persisted, in commands. A failing query marks
 * the database unreachable (health: degraded — matching goes on, the WAL holds the truth, the writer
 * catches up when PostgreSQL returns). Lag over `degradedLag` commands is reported degraded too.
 *
 * Wired by server.ts when there is a database. Thread-safety: main thread only.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Sql } from './PgClient.js';

export interface JournalMonitorOptions {
  readonly sql: Sql;
  readonly shards: number;
  /** The durable WAL seq of shard k (Pipeline.durableSeq). */
  readonly durableSeq: (shard: number) => number;
  /** Poll period. Default 1000 ms. */
  readonly intervalMs?: number;
  /** Lag (commands) above which health says degraded. Default 1,000,000. */
  readonly degradedLag?: number;
  /** Registers `exchange_journal_lag_commands{shard}` and `exchange_database_up` here. */
  readonly registry?: Registry;
}

export interface JournalShardLag {
  readonly shard: number;
  readonly durableSeq: number;
  readonly persistedSeq: number;
  readonly lag: number;
}

export class JournalMonitor {
  /** Persisted command seq per shard, as last read (0 before the first read). */
  readonly persisted: Float64Array;
  /** Whether the last poll reached PostgreSQL. */
  reachable = true;
  lastError = '';
  private readonly options: JournalMonitorOptions;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(options: JournalMonitorOptions) {
    this.options = options;
    this.persisted = new Float64Array(options.shards);
    if (options.registry !== undefined) this.register(options.registry);
  }

  private register(registry: Registry): void {
    const lags = () => this.lags();
    const up = () => this.reachable;
    new Gauge({
      name: 'exchange_journal_lag_commands',
      help: 'WAL commands durable but not yet persisted in PostgreSQL, per shard.',
      labelNames: ['shard'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of lags()) this.set({ shard: String(s.shard) }, s.lag);
      },
    });
    new Gauge({
      name: 'exchange_database_up',
      help: '1 when the last journal_progress read reached PostgreSQL.',
      registers: [registry],
      collect() {
        this.set(up() ? 1 : 0);
      },
    });
  }

  start(): void {
    if (this.timer !== undefined) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One read of journal_progress; never throws (a failure marks the database unreachable). */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const rows = await this.options.sql<{ shard: number; seq: number }[]>`
        SELECT shard_id AS shard, cmd_seq::float8 AS seq FROM journal_progress`;
      for (const r of rows)
        if (r.shard >= 0 && r.shard < this.persisted.length) this.persisted[r.shard] = r.seq;
      this.reachable = true;
      this.lastError = '';
    } catch (err) {
      this.reachable = false;
      this.lastError = (err as Error).message;
    } finally {
      this.polling = false;
    }
  }

  lags(): JournalShardLag[] {
    const out: JournalShardLag[] = [];
    for (let k = 0; k < this.persisted.length; k++) {
      const durableSeq = this.options.durableSeq(k);
      const persistedSeq = this.persisted[k];
      out.push({ shard: k, durableSeq, persistedSeq, lag: Math.max(0, durableSeq - persistedSeq) });
    }
    return out;
  }

  /** The health component: ok, or degraded when PostgreSQL is unreachable or far behind. */
  health(): Record<string, unknown> & { status: 'ok' | 'degraded' } {
    const shards = this.lags();
    const worst = shards.reduce((m, s) => Math.max(m, s.lag), 0);
    const behind = worst > (this.options.degradedLag ?? 1_000_000);
    return {
      status: !this.reachable || behind ? 'degraded' : 'ok',
      database: this.reachable ? 'reachable' : `unreachable: ${this.lastError}`,
      shards: shards.map((s) => ({
        id: s.shard,
        durable_seq: s.durableSeq,
        persisted_seq: s.persistedSeq,
        lag_commands: s.lag,
      })),
    };
  }
}
