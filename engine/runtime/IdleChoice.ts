/**
 * The configurable idle strategy of a shard (`IDLE_STRATEGY`): its name and the factory the shard
 * loop uses for both of its waits (no commands in its ring; its event ring full).
 *
 *  - 'backoff' (default): `Backoff` with its defaults: spin ~2 us, yield-ish ~2 us, then park
 *    (Atomics.wait) with a timeout doubling from 1 ms to 100 ms; the feeding thread wakes it. 0 % CPU
 *    when idle; a command that finds the shard parked pays a futex wake (docs/ring.md: ~7 us p50 /
 *    ~25 us p99 on a quiet machine, more under load). The 100 ms cap is also the longest gap between
 *    two heartbeats of an idle shard.
 *  - 'spin': `BusySpin`: ~0.15 us hand-off, 100 % of a core per shard even when idle. Only for a
 *    machine with a core per shard plus one for the main thread; on an oversubscribed machine it
 *    starves the gateway and its peers (docs/ring.md: ring throughput fell to 3-5M/s under load).
 * Thread-safety: pure; each call returns a new strategy for the calling thread.
 */
import { Backoff } from '../idle/Backoff.js';
import { BusySpin } from '../idle/BusySpin.js';
import type { IdleStrategy, Parkable } from '../idle/IdleStrategy.js';
import { PipelineError } from './PipelineError.js';

export type IdleStrategyName = 'backoff' | 'spin';
export const IDLE_STRATEGIES: readonly IdleStrategyName[] = ['backoff', 'spin'];

/** A new idle strategy called `name` that parks (if it does) on `site`. */
export function createIdle(name: IdleStrategyName, site: Parkable): IdleStrategy {
  if (name === 'spin') return new BusySpin();
  if (name === 'backoff') return new Backoff(site);
  throw new PipelineError(`idle strategy must be one of ${IDLE_STRATEGIES.join('|')}, got ${String(name)}`);
}
