import { ProviderError } from '@maxai/core';
import { withTenant, type Database, type FlowRunStatus, type Tx } from '@maxai/db';
import type { Logger } from 'pino';
import { ExpressionError, type ExpressionScope } from '../definition/expressions';
import type { FlowDefinition, FlowStep } from '../definition/flow-types';
import {
  DEFAULT_RETRY,
  nextStep,
  retryDelayMs,
  type LoopCounters,
  type NextStep,
  type StepOutcome,
} from '../definition/sequencing';
import { planStep } from '../definition/step-plan';
import type { OrchestratorMetrics } from './orchestrator-metrics';
import type { RunRow, RunsRepository, StepRow } from './runs.repository';
import { whileLeaseHeld } from './lease-heartbeat';
import { executeCall, type CallResult } from './step-calls';
import { CallbackArrivals } from './wait-resume';
import type { StepServices } from './step-services';
import type { ConnectionBudget } from './connection-budget';

export interface ExecutorOptions {
  workerId: string;
  leaseMs: number;
  /** A run yields its worker after this many steps in a row (others get a turn). */
  maxStepsPerSlice: number;
  defaultStepTimeoutS: number;
  /** Flow versions kept parsed (default 1000). */
  definitionsKept?: number;
}

/** Flow versions a worker keeps parsed (each a few kB). */
const DEFINITIONS_KEPT = 1000;

/** A step begun: the run as it stands, the step's definition and its row. */
interface Started {
  run: RunRow;
  step: FlowStep;
  row: StepRow;
}

/** How a step ended, as the executor persists it. */
type StepEnd =
  | {
      kind: 'advance';
      outcome: StepOutcome;
      status: 'completed' | 'skipped';
      output?: unknown;
      vars?: Record<string, unknown>;
      call?: CallResult;
    }
  | {
      kind: 'suspend';
      wakeAt: Date;
      waiting?: { type: string; key: string };
      error?: string;
      errorKind?: string;
    }
  | { kind: 'end'; status: 'completed' | 'cancelled' }
  | { kind: 'fail'; reason: string; errorKind: string };

/**
 * Runs one claimed run forward, step by step, persisting each step's start and end: a worker
 * killed at any point leaves the run resumable from its last completed step (the lease expires,
 * another worker claims it). A completed step is never executed again; a side effect in flight
 * at a crash is guarded by its idempotency key.
 */
export class RunExecutor {
  private readonly definitions = new Map<string, FlowDefinition>();
  private readonly arrivals: CallbackArrivals;

  constructor(
    private readonly db: Database,
    private readonly repository: RunsRepository,
    private readonly services: StepServices,
    private readonly budget: ConnectionBudget,
    private readonly metrics: OrchestratorMetrics,
    private readonly logger: Logger,
    private readonly options: ExecutorOptions,
  ) {
    this.arrivals = new CallbackArrivals(repository, metrics);
  }

  async execute(claimed: RunRow): Promise<void> {
    const definition = await this.definition(claimed);
    let current = await withTenant(this.db, claimed.tenantId, (tx) =>
      this.proceed(tx, definition, claimed, new Date(), true),
    );
    for (let done = 1; current; done += 1) {
      const { run, step, row } = current;
      const end = await this.runStep(definition, run, step, row);
      // A long run yields its worker after its slice: back in the queue behind other tenants'.
      current = await this.end(
        definition,
        run,
        step,
        row,
        end,
        done < this.options.maxStepsPerSlice,
      );
    }
  }

  /**
   * Within the caller's transaction (right after the claim, or the one that ended the previous
   * step — a transaction less per step): closes the run if it cannot go on, else begins its next
   * step.
   */
  private async proceed(
    tx: Tx,
    definition: FlowDefinition,
    run: RunRow,
    runnableAt: Date,
    resumable: boolean,
  ): Promise<Started | undefined> {
    if (run.deadlineAt && run.deadlineAt.getTime() <= Date.now()) {
      await this.close(tx, run, 'timed_out', 'the run exceeded its time limit');
      return undefined;
    }
    const stepId = run.cursor;
    if (stepId === null) {
      await this.close(tx, run, 'completed', null);
      return undefined;
    }
    const step = definition.steps.find((s) => s.id === stepId);
    if (!step) {
      await this.close(tx, run, 'failed', `unknown step ${stepId}`);
      return undefined;
    }
    return this.begin(tx, run, step, runnableAt, resumable);
  }

  private async definition(run: RunRow): Promise<FlowDefinition> {
    const key = `${run.tenantId}:${run.flowId}:${String(run.version)}`;
    const cached = this.definitions.get(key);
    if (cached) return cached;
    const row = await withTenant(this.db, run.tenantId, (tx) =>
      this.repository.version(tx, run.tenantId, run.flowId, run.version),
    );
    if (!row) throw new Error(`flow version ${key} is missing`);
    // Versions are immutable: cached for good, the oldest forgotten past a bound.
    const definition = row.definition as unknown as FlowDefinition;
    if (this.definitions.size >= (this.options.definitionsKept ?? DEFINITIONS_KEPT)) {
      // A Map iterates in insertion order: the first key is the oldest.
      for (const oldest of this.definitions.keys()) {
        this.definitions.delete(oldest);
        break;
      }
    }
    this.definitions.set(key, definition);
    return definition;
  }

  /**
   * Renews the lease and records the step's start: a retry or a resume reuses its row (only the
   * first step of a slice may be one: `resumable`), any other step gets the next row — the lease
   * and the step number in one statement.
   */
  private async begin(
    tx: Tx,
    run: RunRow,
    step: FlowStep,
    runnableAt: Date,
    resumable: boolean,
  ): Promise<Started | undefined> {
    const current =
      resumable && run.stepSeq > 0
        ? await this.repository.step(tx, run.tenantId, run.id, run.stepSeq)
        : undefined;
    const resumed =
      current?.stepId === step.id && isUnfinished(current.status) ? current : undefined;
    const held = await this.repository.holdRun(
      tx,
      run.tenantId,
      run.id,
      this.options.workerId,
      this.options.leaseMs,
      resumed === undefined,
    );
    if (!held) return undefined; // cancelled, or no longer ours
    const now = new Date();
    if (resumed) {
      // A retry after a failure, or a resume after a crash mid-attempt, is a new attempt; the
      // end of a delay, a throttle or a wait's timeout continues the same one.
      const sameAttempt = resumed.status === 'waiting' && resumed.error === null;
      const attempts = sameAttempt ? resumed.attempts : resumed.attempts + 1;
      await this.repository.updateStep(tx, run.tenantId, run.id, resumed.seq, {
        status: 'running',
        attempts,
        startedAt: now,
      });
      this.metrics.dispatch.observe({ type: step.type }, 0);
      return { run: held, step, row: { ...resumed, status: 'running', attempts, startedAt: now } };
    }
    const row: StepRow = {
      tenantId: run.tenantId,
      runId: run.id,
      seq: held.stepSeq,
      stepId: step.id,
      type: step.type,
      status: 'running',
      input: null,
      output: null,
      attempts: 1,
      error: null,
      errorKind: null,
      idempotencyKey: null,
      promptVersionId: null,
      runnableAt,
      startedAt: now,
      finishedAt: null,
    };
    await this.repository.insertStep(tx, row);
    this.metrics.dispatch.observe(
      { type: step.type },
      Math.max(0, now.getTime() - runnableAt.getTime()) / 1000,
    );
    return { run: held, step, row };
  }

  private async runStep(
    definition: FlowDefinition,
    run: RunRow,
    step: FlowStep,
    row: StepRow,
  ): Promise<StepEnd> {
    // Resumed after a wait: either the awaited event arrived (outputs hold it) or time ran out.
    if (run.waitingType !== null) {
      return { kind: 'advance', outcome: { status: 'timed_out' }, status: 'completed' };
    }
    const scope = scopeOf(run);
    let plan;
    try {
      plan = await planStep(definition, step.id, scope);
    } catch (error) {
      return { kind: 'fail', reason: errorText(error), errorKind: 'expression' };
    }
    switch (plan.action) {
      case 'skip':
        return { kind: 'advance', outcome: { status: 'skipped' }, status: 'skipped' };
      case 'branch':
        return {
          kind: 'advance',
          outcome: { status: 'branched', next: plan.next },
          status: 'completed',
          output: { condition: plan.condition, next: plan.next },
        };
      case 'set_vars':
        return {
          kind: 'advance',
          outcome: { status: 'completed' },
          status: 'completed',
          output: plan.vars,
          vars: { ...run.vars, ...plan.vars },
        };
      case 'delay':
        if (run.wakeAt !== null) {
          // The timer already ran out (this is the wake-up).
          return { kind: 'advance', outcome: { status: 'completed' }, status: 'completed' };
        }
        return { kind: 'suspend', wakeAt: new Date(Date.now() + plan.seconds * 1000) };
      case 'wait':
        return {
          kind: 'suspend',
          wakeAt: new Date(Date.now() + plan.timeoutSeconds * 1000),
          waiting: { type: plan.event, key: JSON.stringify(plan.runKey ?? null) },
        };
      case 'end':
        return { kind: 'end', status: plan.status };
      case 'invalid_input':
        return {
          kind: 'fail',
          reason: `invalid input: ${plan.issues.map((i) => `${i.pointer} ${i.message}`).join('; ')}`,
          errorKind: 'invalid',
        };
      case 'call':
        return this.call(run, step, row, plan);
    }
  }

  private async call(
    run: RunRow,
    step: FlowStep,
    row: StepRow,
    plan: Extract<Awaited<ReturnType<typeof planStep>>, { action: 'call' }>,
  ): Promise<StepEnd> {
    const idempotencyKey = `${run.id}:${step.id}:g${String(run.attemptGroup)}:s${String(row.seq)}`;
    const timeoutS =
      ('timeoutSeconds' in step ? step.timeoutSeconds : undefined) ??
      this.options.defaultStepTimeoutS;
    try {
      const result = await whileLeaseHeld(
        () =>
          withTenant(this.db, run.tenantId, (tx) =>
            this.repository.renewLease(
              tx,
              run.tenantId,
              run.id,
              this.options.workerId,
              this.options.leaseMs,
            ),
          ),
        this.options.leaseMs / 3,
        () =>
          executeCall({
            db: this.db,
            repository: this.repository,
            services: this.services,
            budget: this.budget,
            run,
            step,
            plan,
            idempotencyKey,
            timeoutMs: timeoutS * 1000,
          }),
        (error) => {
          this.logger.warn({ err: error, runId: run.id, stepId: step.id }, 'flow run lease lost');
        },
      );
      if (result.kind === 'throttled') {
        return { kind: 'suspend', wakeAt: new Date(Date.now() + result.waitMs) };
      }
      if (result.kind === 'waiting') {
        await this.keepWaitingCall(run, step, row, result.call);
        return {
          kind: 'suspend',
          wakeAt: new Date(Date.now() + result.timeoutSeconds * 1000),
          waiting: { type: result.event, key: JSON.stringify(result.key) },
        };
      }
      return {
        kind: 'advance',
        outcome: { status: 'completed' },
        status: 'completed',
        output: result.output,
        call: result,
      };
    } catch (error) {
      return this.failure(step, row, error);
    }
  }

  /**
   * A call that now waits (n8n's callback) has already acted: its input, key and usage are kept
   * now, since the event that ends the wait only brings the output (and may never come).
   */
  private async keepWaitingCall(
    run: RunRow,
    step: FlowStep,
    row: StepRow,
    call: Extract<CallResult, { kind: 'done' }>,
  ): Promise<void> {
    await withTenant(this.db, run.tenantId, async (tx) => {
      await this.repository.updateStep(tx, run.tenantId, run.id, row.seq, {
        input: call.input,
        idempotencyKey: call.idempotencyKey,
      });
      for (const usage of call.usage) {
        await this.repository.recordUsage(tx, {
          tenantId: run.tenantId,
          clientId: run.clientId,
          agentId: run.agentId,
          flowId: run.flowId,
          runId: run.id,
          stepId: `${step.id}#${String(row.seq)}`,
          attemptGroup: run.attemptGroup,
          promptVersionId: call.promptVersionId,
          ...usage,
        });
      }
    });
  }

  /** Retry (with backoff and jitter) what may pass later; fail at once what never will. */
  private failure(step: FlowStep, row: StepRow, error: unknown): StepEnd {
    const retryable =
      error instanceof ProviderError ? error.retryable : !(error instanceof ExpressionError);
    const kind = error instanceof ProviderError ? error.kind : 'transient';
    // An `auth` failure has already marked the connection (step-calls, which knows it).
    if (retryable && !isPermanent(error)) {
      const policy = 'retry' in step ? step.retry : undefined;
      const delay = retryDelayMs(policy ?? DEFAULT_RETRY, row.attempts);
      if (delay !== null) {
        const retryAfter = error instanceof ProviderError ? (error.retryAfterMs ?? 0) : 0;
        const jittered = Math.max(retryAfter, delay / 2 + Math.random() * (delay / 2));
        return {
          kind: 'suspend',
          wakeAt: new Date(Date.now() + jittered),
          error: errorText(error),
          errorKind: kind,
        };
      }
    }
    return { kind: 'fail', reason: errorText(error), errorKind: kind };
  }

  /**
   * Persists how the step ended and moves the run on — in the same transaction, its next step
   * begins (`continuing`) or the run yields its worker; answers the step begun, if any.
   */
  private async end(
    definition: FlowDefinition,
    run: RunRow,
    step: FlowStep,
    row: StepRow,
    end: StepEnd,
    continuing: boolean,
  ): Promise<Started | undefined> {
    const finishedAt = new Date();
    this.metrics.stepDuration.observe(
      { type: step.type, outcome: end.kind },
      (finishedAt.getTime() - (row.startedAt ?? finishedAt).getTime()) / 1000,
    );
    return withTenant(this.db, run.tenantId, async (tx) => {
      // Still ours? The run may have been cancelled while the step ran (or taken over after this
      // worker's lease lapsed). Renewing also locks the run's row until this transaction ends.
      const ours = await this.repository.renewLease(
        tx,
        run.tenantId,
        run.id,
        this.options.workerId,
        this.options.leaseMs,
      );
      if (!ours) {
        await this.abandon(tx, run, row, end, finishedAt);
        return undefined;
      }
      switch (end.kind) {
        case 'suspend': {
          await this.repository.updateStep(tx, run.tenantId, run.id, row.seq, {
            status: 'waiting',
            error: end.error ?? null,
            errorKind: end.errorKind ?? null,
          });
          const waiting = await this.repository.updateRun(tx, run.tenantId, run.id, {
            status: 'waiting',
            // Woken by the run's deadline at the latest: a wait does not outlive the run's limit.
            wakeAt: run.deadlineAt && run.deadlineAt < end.wakeAt ? run.deadlineAt : end.wakeAt,
            waitingType: end.waiting?.type ?? null,
            waitingKey: end.waiting?.key ?? null,
            lockedBy: null,
            lockedUntil: null,
          });
          // A callback may have come in already (before this commit): then it goes on at once.
          await this.arrivals.settle(tx, definition, waiting, step);
          return undefined;
        }
        case 'fail':
          await this.repository.updateStep(tx, run.tenantId, run.id, row.seq, {
            status: 'failed',
            error: end.reason,
            errorKind: end.errorKind,
            finishedAt,
          });
          await this.close(tx, run, 'failed', `step ${step.id}: ${end.reason}`);
          return undefined;
        case 'end':
          await this.repository.updateStep(tx, run.tenantId, run.id, row.seq, {
            status: 'completed',
            finishedAt,
          });
          await this.close(tx, run, end.status, null);
          return undefined;
        case 'advance': {
          const next = await this.advance(tx, definition, run, step, row, end, finishedAt);
          if (!next) return undefined;
          if (continuing) return this.proceed(tx, definition, next, finishedAt, false);
          await this.repository.updateOwnRun(tx, run.tenantId, run.id, this.options.workerId, {
            status: 'queued',
            lockedBy: null,
            lockedUntil: null,
          });
          return undefined;
        }
      }
    });
  }

  /**
   * The run is no longer this worker's. Cancelled: the step ends cancelled (with what it
   * produced, if it completed). Taken over: the other worker owns the step's row now.
   */
  private async abandon(tx: Tx, run: RunRow, row: StepRow, end: StepEnd, finishedAt: Date) {
    const current = await this.repository.run(tx, run.tenantId, run.id);
    if (current?.status !== 'cancelled') {
      this.logger.warn({ runId: run.id, stepId: row.stepId }, 'flow run was taken over mid-step');
      return;
    }
    await this.repository.updateStep(tx, run.tenantId, run.id, row.seq, {
      status: 'cancelled',
      output: end.kind === 'advance' ? end.output : undefined,
      error: 'the run was cancelled while the step ran',
      finishedAt,
    });
  }

  private async advance(
    tx: Tx,
    definition: FlowDefinition,
    run: RunRow,
    step: FlowStep,
    row: StepRow,
    end: Extract<StepEnd, { kind: 'advance' }>,
    finishedAt: Date,
  ): Promise<RunRow | undefined> {
    const call = end.call?.kind === 'done' ? end.call : undefined;
    await this.repository.updateStep(tx, run.tenantId, run.id, row.seq, {
      status: end.status,
      // Without a call (a wait that timed out included) the row keeps what it has.
      ...(call && {
        input: call.input,
        idempotencyKey: call.idempotencyKey,
        promptVersionId: call.promptVersionId,
      }),
      output: end.output ?? null,
      error: null,
      errorKind: null,
      finishedAt,
    });
    for (const usage of call?.usage ?? []) {
      await this.repository.recordUsage(tx, {
        tenantId: run.tenantId,
        clientId: run.clientId,
        agentId: run.agentId,
        flowId: run.flowId,
        runId: run.id,
        stepId: `${step.id}#${String(row.seq)}`,
        attemptGroup: run.attemptGroup,
        promptVersionId: call?.promptVersionId ?? null,
        ...usage,
      });
    }
    const outputs = {
      ...run.outputs,
      [step.id]: {
        status: end.status,
        ...(end.output === undefined ? {} : { output: end.output }),
      },
    };
    const next = nextStep(definition, step.id, end.outcome, run.iterations);
    const base = {
      outputs,
      vars: end.vars ?? run.vars,
      waitingType: null,
      waitingKey: null,
      wakeAt: null,
    };
    if (next.kind !== 'run') {
      await this.repository.updateRun(tx, run.tenantId, run.id, base);
      await this.close(tx, run, ...closing(next));
      return undefined;
    }
    return this.repository.updateRun(tx, run.tenantId, run.id, {
      ...base,
      cursor: next.stepId,
      iterations: next.loopCounters,
    });
  }

  private async close(
    tx: Tx,
    run: RunRow,
    status: FlowRunStatus,
    error: string | null,
  ): Promise<void> {
    const closed = await this.repository.updateOwnRun(
      tx,
      run.tenantId,
      run.id,
      this.options.workerId,
      {
        status,
        error,
        finishedAt: new Date(),
        lockedBy: null,
        lockedUntil: null,
        wakeAt: null,
        waitingType: null,
        waitingKey: null,
      },
    );
    if (!closed) return; // cancelled meanwhile: it stays cancelled
    this.metrics.runsFinished.inc({ status });
    if (status === 'failed') {
      this.logger.warn({ runId: run.id, tenantId: run.tenantId, error }, 'flow run failed');
    }
  }
}

function closing(next: Exclude<NextStep, { kind: 'run' }>): [FlowRunStatus, string | null] {
  return next.kind === 'end' ? [next.status, null] : ['failed', next.reason];
}

const isUnfinished = (status: string) => status === 'running' || status === 'waiting';

function isPermanent(error: unknown): boolean {
  return error instanceof Error && error.name === 'PermanentStepError';
}

export function scopeOf(run: RunRow): ExpressionScope {
  return {
    event: run.triggerEvent,
    steps: run.outputs as ExpressionScope['steps'],
    vars: run.vars,
    run: {
      id: run.id,
      flowId: run.flowId,
      version: run.version,
      tenantId: run.tenantId,
      clientId: run.clientId,
      agentId: run.agentId,
    },
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 1000) : String(error).slice(0, 1000);
}

export type { LoopCounters };
