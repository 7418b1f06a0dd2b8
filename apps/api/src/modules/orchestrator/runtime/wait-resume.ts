import type { Tx } from '@maxai/db';
import { toCloudEvent, type CloudEvent } from '../../events/events.service';
import type { FlowDefinition, FlowStep } from '../definition/flow-types';
import { nextStep } from '../definition/sequencing';
import type { OrchestratorMetrics } from './orchestrator-metrics';
import type { RunRow, RunsRepository } from './runs.repository';
import { N8N_CALLBACK_EVENT } from './step-calls';

/**
 * The awaited event arrived: the waiting step completes with it (a `wait_for_event` with the
 * whole event, a callback with its data) and the run is queued again at its next step — or
 * ends, if that was its last.
 */
export async function resumeWith(
  tx: Tx,
  repository: RunsRepository,
  metrics: OrchestratorMetrics,
  waiting: { definition: FlowDefinition; run: RunRow; step: FlowStep; event: CloudEvent },
): Promise<void> {
  const { definition, run, step, event } = waiting;
  const output = step.type === 'wait_for_event' ? { event } : event.data;
  await repository.updateStep(tx, run.tenantId, run.id, run.stepSeq, {
    status: 'completed',
    output,
    error: null,
    finishedAt: new Date(),
  });
  const outputs = { ...run.outputs, [step.id]: { status: 'completed', output } };
  const next = nextStep(definition, step.id, { status: 'completed' }, run.iterations);
  const cleared = { outputs, waitingType: null, waitingKey: null, wakeAt: null };
  if (next.kind === 'run') {
    await repository.updateRun(tx, run.tenantId, run.id, {
      ...cleared,
      status: 'queued',
      cursor: next.stepId,
      iterations: { ...next.loopCounters },
    });
    return;
  }
  await repository.updateRun(tx, run.tenantId, run.id, {
    ...cleared,
    status: next.kind === 'end' ? next.status : 'failed',
    error: next.kind === 'fail' ? next.reason : null,
    cursor: null,
    finishedAt: new Date(),
  });
  metrics.runsFinished.inc({ status: next.kind === 'end' ? next.status : 'failed' });
}

/**
 * An n8n callback can arrive before its run has recorded that it waits for it (the workflow
 * answers fast, our commit is slower); dispatched then, it found no one waiting. So a run that
 * starts waiting for a callback looks for it among the stored events first — under the same
 * per-key lock the dispatch of that callback takes, so one of the two always sees the other.
 * (A `wait_for_event` waits for events after it, by design: nothing to look back for.)
 */
export class CallbackArrivals {
  constructor(
    private readonly repository: RunsRepository,
    private readonly metrics: OrchestratorMetrics,
  ) {}

  /** Within the transaction that made `run` wait at `step`: resumes it if its callback is in. */
  async settle(tx: Tx, definition: FlowDefinition, run: RunRow, step: FlowStep): Promise<boolean> {
    if (run.waitingType !== N8N_CALLBACK_EVENT || run.waitingKey === null) return false;
    const key = JSON.parse(run.waitingKey) as string;
    await this.repository.lockWaitKey(tx, run.tenantId, run.waitingType, key);
    const arrived = await this.repository.storedEvent(tx, run.tenantId, run.waitingType, key);
    if (!arrived) return false;
    const event = toCloudEvent(arrived);
    await resumeWith(tx, this.repository, this.metrics, { definition, run, step, event });
    return true;
  }
}
