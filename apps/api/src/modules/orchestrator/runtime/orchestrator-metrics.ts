import { Counter, Histogram } from 'prom-client';
import type { MetricsService } from '../../../platform/metrics/metrics.service';

/** Runs started/finished, step latency by type, dispatch overhead and queue wait by tenant. */
export class OrchestratorMetrics {
  readonly runsStarted: Counter<'trigger'>;
  readonly runsFinished: Counter<'status'>;
  readonly stepDuration: Histogram<'type' | 'outcome'>;
  readonly dispatch: Histogram<'type'>;
  readonly queueWait: Histogram<'tenant'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.runsStarted = new Counter({
      name: 'flow_runs_started_total',
      help: 'Flow runs created, by trigger kind (event, manual, rerun)',
      labelNames: ['trigger'],
      registers,
    });
    this.runsFinished = new Counter({
      name: 'flow_runs_finished_total',
      help: 'Flow runs that ended, by status (completed, failed, cancelled, timed_out)',
      labelNames: ['status'],
      registers,
    });
    this.stepDuration = new Histogram({
      name: 'flow_step_duration_seconds',
      help: 'Step execution time by step type and how it ended',
      labelNames: ['type', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
    this.dispatch = new Histogram({
      name: 'flow_step_dispatch_seconds',
      help: 'Time from a step becoming runnable to its start, by step type',
      labelNames: ['type'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
    });
    this.queueWait = new Histogram({
      name: 'flow_run_queue_wait_seconds',
      help: 'Time from a run being queued (or due) to a worker claiming it, by tenant',
      labelNames: ['tenant'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers,
    });
  }
}
