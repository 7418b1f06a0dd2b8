import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolStats } from '@maxai/db';

export type JobOutcome = 'succeeded' | 'retry' | 'dead' | 'skipped';

/**
 * The process's Prometheus metrics. One registry per application instance (not prom-client's
 * global one), so several instances in one process — tests — do not collide.
 */
export class MetricsService {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly jobsProcessed: Counter<'job' | 'outcome'>;
  readonly jobDuration: Histogram<'job' | 'outcome'>;
  readonly jobsEnqueued: Counter<'job'>;
  private poolStats: () => PoolStats | undefined = () => undefined;

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route template, method and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.jobsProcessed = new Counter({
      name: 'jobs_processed_total',
      help: 'Job executions by job name and outcome',
      labelNames: ['job', 'outcome'],
      registers: [this.registry],
    });
    this.jobDuration = new Histogram({
      name: 'job_duration_seconds',
      help: 'Job execution duration by job name and outcome',
      labelNames: ['job', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers: [this.registry],
    });
    this.jobsEnqueued = new Counter({
      name: 'jobs_enqueued_total',
      help: 'Jobs written to the outbox by job name',
      labelNames: ['job'],
      registers: [this.registry],
    });
    const stats = (pick: (s: PoolStats) => number) =>
      function collect(this: Gauge) {
        const s = self.poolStats();
        if (s) this.set(pick(s));
      };
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client binds `this` to the gauge
    const self = this;
    new Gauge({
      name: 'db_pool_connections_total',
      help: 'Database connections open in the pool',
      registers: [this.registry],
      collect: stats((s) => s.total),
    });
    new Gauge({
      name: 'db_pool_connections_idle',
      help: 'Database connections idle in the pool',
      registers: [this.registry],
      collect: stats((s) => s.idle),
    });
    new Gauge({
      name: 'db_pool_requests_waiting',
      help: 'Queries waiting for a pooled database connection',
      registers: [this.registry],
      collect: stats((s) => s.waiting),
    });
  }

  observePool(source: () => PoolStats): void {
    this.poolStats = source;
  }

  recordJob(job: string, outcome: JobOutcome, seconds: number): void {
    this.jobsProcessed.inc({ job, outcome });
    this.jobDuration.observe({ job, outcome }, seconds);
  }
}
