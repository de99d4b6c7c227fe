/**
 * When to snapshot a replica: every `everyCommands` applied commands or every `intervalMs` (if at
 * least one command was applied since the last snapshot), one snapshot at a time, and once more on
 * graceful stop. The journal worker calls `afterBatch(replica)` after each applied WAL batch and
 * `onStop(replica)` when it stops.
 *
 * Config: SNAPSHOT_EVERY_COMMANDS (default 1,000,000) and SNAPSHOT_INTERVAL_S (default 300; 0 turns
 * the timer off), read by `snapshotPolicyFromEnv`. A snapshot refused because the writer pool is full
 * counts in `skipped`; a failed one (I/O) in `failed` and is logged; neither stops the journal (the
 * WAL still holds everything, the next snapshot is due soon).
 * Thread-safety: single-threaded (the journal worker's thread).
 */
import { ConfigError } from '../../engine/errors.js';
import type { Replica } from '../Replica.js';
import { SnapshotBusyError, type SnapshotLog } from './SnapshotStore.js';

export const DEFAULT_SNAPSHOT_EVERY_COMMANDS = 1_000_000;
export const DEFAULT_SNAPSHOT_INTERVAL_S = 300;

export interface SnapshotPolicy {
  /** Snapshot after this many commands since the last one (>= 1). */
  readonly everyCommands: number;
  /** Snapshot after this many ms since the last one, if any command was applied (0 = never by time). */
  readonly intervalMs: number;
}

/** SNAPSHOT_EVERY_COMMANDS and SNAPSHOT_INTERVAL_S from `env`, with defaults; ConfigError names a bad value. */
export function snapshotPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): SnapshotPolicy {
  const read = (name: string, fallback: number, min: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new ConfigError(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
    }
    return n;
  };
  return {
    everyCommands: read('SNAPSHOT_EVERY_COMMANDS', DEFAULT_SNAPSHOT_EVERY_COMMANDS, 1),
    intervalMs: read('SNAPSHOT_INTERVAL_S', DEFAULT_SNAPSHOT_INTERVAL_S, 0) * 1000,
  };
}

export class SnapshotScheduler {
  readonly policy: SnapshotPolicy;
  /** Snapshots written, refused (pool full), failed. */
  taken: number;
  skipped: number;
  failed: number;
  /** cmdSeq and time (clock ms) of the last snapshot started. */
  private lastSeq: number;
  private lastTime: number;
  private inFlight: Promise<string | undefined> | undefined;
  private readonly clock: () => number;
  private readonly log: SnapshotLog | undefined;

  /** `startSeq`: the replica's cmdSeq at start (its snapshot, if restored from one). */
  constructor(
    policy: SnapshotPolicy,
    startSeq: number,
    options: { clock?: () => number; log?: SnapshotLog } = {},
  ) {
    if (!Number.isSafeInteger(policy.everyCommands) || policy.everyCommands < 1) {
      throw new ConfigError(`snapshot everyCommands must be an integer >= 1, got ${policy.everyCommands}`);
    }
    if (!(policy.intervalMs >= 0))
      throw new ConfigError(`snapshot intervalMs must be >= 0, got ${policy.intervalMs}`);
    this.policy = policy;
    this.clock = options.clock ?? Date.now;
    this.log = options.log;
    this.taken = 0;
    this.skipped = 0;
    this.failed = 0;
    this.lastSeq = startSeq;
    this.lastTime = this.clock();
    this.inFlight = undefined;
  }

  /** True when a snapshot of `replica` is due now. */
  due(replica: Replica): boolean {
    const behind = replica.cmdSeq - this.lastSeq;
    if (behind <= 0) return false;
    if (behind >= this.policy.everyCommands) return true;
    return this.policy.intervalMs > 0 && this.clock() - this.lastTime >= this.policy.intervalMs;
  }

  /**
   * Call after each applied batch: starts a snapshot when one is due and none is in flight. Returns
   * its promise (resolves to the path, or undefined when skipped/failed; never rejects), else undefined.
   */
  afterBatch(replica: Replica): Promise<string | undefined> | undefined {
    if (this.inFlight !== undefined || !this.due(replica)) return undefined;
    return this.start(replica);
  }

  /** Graceful stop: waits for a snapshot in flight, then snapshots the final state if it is newer. */
  async onStop(replica: Replica): Promise<string | undefined> {
    if (this.inFlight !== undefined) await this.inFlight;
    if (replica.cmdSeq <= this.lastSeq) return undefined;
    return this.start(replica);
  }

  private start(replica: Replica): Promise<string | undefined> {
    const prevSeq = this.lastSeq;
    const prevTime = this.lastTime;
    this.lastSeq = replica.cmdSeq;
    this.lastTime = this.clock();
    const cmdSeq = replica.cmdSeq;
    const p = replica.snapshot().then(
      (path) => {
        this.taken++;
        this.log?.info({ path, cmdSeq }, 'snapshot written');
        return path;
      },
      (err: unknown) => {
        if (err instanceof SnapshotBusyError) {
          this.skipped++;
        } else {
          this.failed++;
          this.log?.warn({ cmdSeq, err: (err as Error).message }, 'snapshot failed');
        }
        // Note: not taken, so the next batch may retry (counting from the previous snapshot).
        this.lastSeq = prevSeq;
        this.lastTime = prevTime;
        return undefined;
      },
    );
    this.inFlight = p.finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }
}
