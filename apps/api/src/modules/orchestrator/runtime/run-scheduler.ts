import type { Logger } from 'pino';
import { WakeablePause } from '../../../platform/queue/pause';
import type { OrchestratorMetrics } from './orchestrator-metrics';
import type { RunExecutor } from './run-executor';
import type { ClaimLimits, RunRow, RunsRepository } from './runs.repository';

export interface SchedulerOptions extends Omit<ClaimLimits, 'limit'> {
  workerId: string;
  /** Runs this worker executes at once. */
  concurrency: number;
  pollIntervalMs: number;
}

/**
 * The worker's loop: claims runnable runs fairly (tenants take turns, within per-tenant and
 * global limits) up to its free capacity, executes them concurrently, and polls again — at once
 * when woken (a run was queued in this process, or one finished and freed a slot).
 */
export class RunScheduler {
  private readonly inFlight = new Set<Promise<void>>();
  /** Runs this worker executes, by tenant. */
  private readonly running = new Map<string, number>();
  private readonly pause = new WakeablePause();
  private stopping = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly repository: RunsRepository,
    private readonly executor: RunExecutor,
    private readonly metrics: OrchestratorMetrics,
    private readonly logger: Logger,
    private readonly options: SchedulerOptions,
  ) {}

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /**
   * Claims again at once. A run queued for a tenant that this worker alone already runs its
   * limit of cannot be claimed now: no claim for it (one of those runs ending wakes the loop), so
   * a flooding tenant's events cost no claims.
   */
  wake(tenantId?: string): void {
    if (tenantId !== undefined && (this.running.get(tenantId) ?? 0) >= this.options.perTenant) {
      return;
    }
    this.pause.wake();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.pause.wake();
    await this.loop;
    this.loop = undefined;
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const free = this.options.concurrency - this.inFlight.size;
      let claimed: RunRow[] = [];
      if (free > 0) {
        try {
          claimed = await this.repository.claim(this.options.workerId, {
            limit: free,
            leaseMs: this.options.leaseMs,
            perTenant: this.options.perTenant,
            global: this.options.global,
          });
        } catch (error) {
          this.logger.error({ err: error }, 'claiming flow runs failed');
        }
      }
      for (const run of claimed) this.launch(run);
      if (claimed.length === 0 || claimed.length < free) {
        await this.pause.wait(this.options.pollIntervalMs);
      }
    }
  }

  private launch(run: RunRow): void {
    const due = run.wakeAt ?? run.queuedAt;
    this.metrics.queueWait.observe(
      { tenant: run.tenantId },
      Math.max(0, Date.now() - due.getTime()) / 1000,
    );
    this.track(run.tenantId, 1);
    const task = this.executor
      .execute(run)
      .catch((error: unknown) => {
        // The lease expires and another claim resumes the run from its last completed step.
        this.logger.error({ err: error, runId: run.id }, 'flow run execution failed');
      })
      .finally(() => {
        this.inFlight.delete(task);
        this.track(run.tenantId, -1);
        this.wake();
      });
    this.inFlight.add(task);
  }

  private track(tenantId: string, change: 1 | -1): void {
    const n = (this.running.get(tenantId) ?? 0) + change;
    if (n > 0) this.running.set(tenantId, n);
    else this.running.delete(tenantId);
  }
}
