/**
 * What the pipeline benches (bench:runtime, bench:journal) share: a probe that takes every event of a
 * one-shard pipeline (checks the event sequence, counts deliveries, and in latency mode records
 * command -> first event latency against each command's due time), and the main thread's submit loop.
 * Thread-safety: main thread of a bench process.
 */
import { performance } from 'node:perf_hooks';
import type { Pipeline } from '../../engine/pipeline.js';
import { COMMAND_SIZE } from '../../engine/records/CommandRecord.js';
import * as E from '../../engine/records/EventRecord.js';
import { BACK_PRESSURED, OK } from '../../engine/runtime/SubmitResult.js';
import { assertResult, latencyHistogram } from './harness.js';

export interface Probe {
  delivered: number;
  lastSeq: number;
  /** Events whose seq was not the previous one + 1. */
  bad: number;
  target: number;
  done: (() => void) | undefined;
  /** Latency mode: due time (ms, performance.now) per command index; 0 = not measured. */
  due: Float64Array | undefined;
  lastCorrelation: number;
  histogram: ReturnType<typeof latencyHistogram>;
}

export function newProbe(): Probe {
  return {
    delivered: 0,
    lastSeq: 0,
    bad: 0,
    target: 0,
    done: undefined,
    due: undefined,
    lastCorrelation: 0,
    histogram: latencyHistogram(),
  };
}

/** The pipeline's `onEvent` feeding `probe`. */
export function probeHandler(probe: Probe): (shard: number, v: DataView, off: number) => void {
  return (_shard, v, off) => {
    const seq = E.readSeq(v, off);
    if (seq !== probe.lastSeq + 1) probe.bad++;
    probe.lastSeq = seq;
    const due = probe.due;
    if (due !== undefined) {
      const corr = E.readCorrelationId(v, off);
      if (corr !== probe.lastCorrelation) {
        probe.lastCorrelation = corr;
        const t = due[corr - 1];
        if (t > 0) probe.histogram.recordValue(Math.max(1, Math.round((performance.now() - t) * 1e6)));
      }
    }
    if (++probe.delivered === probe.target) probe.done?.();
  };
}

/** Resolves once `probe` has taken `target` events. */
export function delivered(probe: Probe, target: number): Promise<void> {
  probe.target = target;
  if (probe.delivered >= target) return Promise.resolve();
  return new Promise((resolve) => {
    probe.done = resolve;
  });
}

export const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Submits the command records [from, to) of `bytes` to shard 0, `publish` at a time (one publication
 * each), in bursts of up to `burst`, yielding to the event loop (the dispatcher) after each; when the
 * command ring is full it sleeps 1 ms (a 1 MiB ring holds ~10k commands, several ms of work) rather
 * than spin, as a gateway waits for its sockets. Returns how many times the ring was full.
 */
export async function submitRange(
  p: Pipeline,
  bytes: Uint8Array,
  from: number,
  to: number,
  burst: number,
  publish: number,
): Promise<number> {
  let i = from;
  let full = 0;
  while (i < to) {
    const burstEnd = Math.min(to, i + burst);
    let r: number = OK;
    while (i < burstEnd) {
      r = p.submitBatch(0, bytes, i * COMMAND_SIZE, Math.min(publish, burstEnd - i));
      if (r <= 0) break;
      i += r;
      r = OK;
    }
    if (r === OK) {
      await yieldTurn();
    } else {
      assertResult(r === BACK_PRESSURED, `submit returned ${r}`);
      full++;
      await sleep(1);
    }
  }
  return full;
}
