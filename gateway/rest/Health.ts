/**
 * `GET /api/v1/health`: the process's component status.
 *
 * Components register a probe (`add(name, probe)`); each returns at least `{ status }`, one of
 * ok | degraded | down, plus any details. The reply is
 * `{ "status": worst, "uptime_ms": ..., "components": { name: probe() } }`, HTTP 200 unless a
 * component is down (503), so load balancers and Kubernetes probes can use the status code.
 * A probe that throws reports that component as down. Thread-safety: main thread only.
 */
import type { Logger } from '../logger.js';

export type HealthStatus = 'ok' | 'degraded' | 'down';

export interface ComponentHealth {
  readonly status: HealthStatus;
  readonly [detail: string]: unknown;
}

export type HealthProbe = () => ComponentHealth;

const RANK: Record<HealthStatus, number> = { ok: 0, degraded: 1, down: 2 };

export class Health {
  private readonly probes = new Map<string, HealthProbe>();
  private readonly startedAt = Date.now();

  constructor(private readonly log: Logger) {}

  /** Adds (or replaces) a component's probe. */
  add(name: string, probe: HealthProbe): void {
    this.probes.set(name, probe);
  }

  remove(name: string): void {
    this.probes.delete(name);
  }

  /** The whole report and its HTTP status. */
  report(): { status: number; body: Record<string, unknown> } {
    let worst: HealthStatus = 'ok';
    const components: Record<string, ComponentHealth> = {};
    for (const [name, probe] of this.probes) {
      let h: ComponentHealth;
      try {
        h = probe();
      } catch (err) {
        this.log.error({ err, component: name }, 'health probe failed');
        h = { status: 'down', error: (err as Error).message };
      }
      components[name] = h;
      if (RANK[h.status] > RANK[worst]) worst = h.status;
    }
    return {
      status: worst === 'down' ? 503 : 200,
      body: { status: worst, uptime_ms: Date.now() - this.startedAt, components },
    };
  }
}
