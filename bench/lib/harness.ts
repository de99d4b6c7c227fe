/**
 * Shared benchmark plumbing: command-line flags, machine info, HDR latency histograms, and the two
 * outputs every bench owes (a short human table, or with `--json` exactly one JSON object on stdout).
 *
 * Used by every `bench/<area>/<name>.bench.ts`. Each bench runs in a fresh process, warms up first,
 * asserts its result, and records latencies in nanoseconds in an HDR histogram.
 * Thread-safety: one harness per process/thread.
 */
import { cpus, totalmem } from 'node:os';
import * as hdr from 'hdr-histogram-js';

export interface BenchArgs {
  readonly json: boolean;
  /** Extra `--key=value` flags. */
  readonly flags: ReadonlyMap<string, string>;
}

export function parseArgs(argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  const flags = new Map<string, string>();
  let json = false;
  for (const a of argv) {
    if (a === '--json') json = true;
    else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq === -1) flags.set(a.slice(2), 'true');
      else flags.set(a.slice(2, eq), a.slice(eq + 1));
    }
  }
  return { json, flags };
}

export function numberFlag(args: BenchArgs, name: string, fallback: number): number {
  const v = args.flags.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** A latency histogram in nanoseconds (1 ns .. 60 s, 3 significant digits). */
export function latencyHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60e9,
    numberOfSignificantValueDigits: 3,
  });
}

export interface LatencySummary {
  readonly count: number;
  readonly p50_us: number;
  readonly p90_us: number;
  readonly p99_us: number;
  readonly p999_us: number;
  readonly p9999_us: number;
  readonly max_us: number;
}

export function summarize(h: hdr.Histogram): LatencySummary {
  const us = (ns: number) => Math.round(ns) / 1000;
  return {
    count: h.totalCount,
    p50_us: us(h.getValueAtPercentile(50)),
    p90_us: us(h.getValueAtPercentile(90)),
    p99_us: us(h.getValueAtPercentile(99)),
    p999_us: us(h.getValueAtPercentile(99.9)),
    p9999_us: us(h.getValueAtPercentile(99.99)),
    max_us: us(h.maxValue),
  };
}

/** Nanoseconds from a monotonic clock, as a number (safe for ~104 days of uptime). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** The median of a list of numbers (the figure we quote across repeated runs). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Prints the result: one JSON object with `--json`, otherwise a title, the machine line and a table of
 * rows (name -> columns).
 */
export function report(
  args: BenchArgs,
  title: string,
  result: Record<string, unknown>,
  rows: readonly Record<string, string | number>[],
): void {
  const machine = machineInfo();
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ bench: title, machine, ...result })}\n`);
    return;
  }
  const lines = [
    `# ${title}`,
    `machine: ${machine.cpu} x${machine.cores}, ${machine.memoryGiB} GiB, node ${machine.node}`,
  ];
  if (rows.length > 0) {
    const cols = Object.keys(rows[0]);
    const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
    lines.push(cols.map((c, i) => c.padEnd(width[i])).join('  '));
    lines.push(width.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows) lines.push(cols.map((c, i) => String(r[c]).padEnd(width[i])).join('  '));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Throws when a bench computed the wrong thing: a fast wrong answer is a bug, not a result. */
export function assertResult(ok: boolean, what: string): void {
  if (!ok) throw new Error(`benchmark result check failed: ${what}`);
}
