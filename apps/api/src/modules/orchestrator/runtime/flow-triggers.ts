import { withTenant, type Database, type Tx } from '@maxai/db';
import type { Logger } from 'pino';
import type { FlowDefinition, FlowStep } from '../definition/flow-types';
import { firstStep } from '../definition/sequencing';
import {
  concurrencyKeyOf,
  eventKeyOf,
  matchesTrigger,
  type FlowEvent,
} from '../definition/trigger';
import type { CloudEvent } from '../../events/events.service';
import type { OrchestratorMetrics } from './orchestrator-metrics';
import type { RunsRepository } from './runs.repository';
import { N8N_CALLBACK_EVENT } from './step-calls';
import { resumeWith } from './wait-resume';

/**
 * The orchestrator's subscription to events: an event resumes the runs waiting for it (a
 * `wait_for_event` whose correlation matches, an n8n callback) and starts every active flow it
 * triggers — at most once per flow and event (a unique key), whatever the redeliveries.
 */
export class FlowTriggers {
  constructor(
    private readonly db: Database,
    private readonly repository: RunsRepository,
    private readonly metrics: OrchestratorMetrics,
    private readonly logger: Logger,
    /** Told the tenant of the runs just queued or resumed (the local scheduler's wake). */
    private readonly onQueued: (tenantId: string) => void,
  ) {}

  async handle(event: CloudEvent): Promise<number> {
    const flowEvent = event as unknown as FlowEvent;
    const started = await withTenant(this.db, event.tenantid, async (tx) => {
      if (event.type === N8N_CALLBACK_EVENT) {
        // Its run may be about to wait for it: see CallbackArrivals. (The subject is the
        // callback's correlation id.)
        await this.repository.lockWaitKey(tx, event.tenantid, event.type, String(event.subject));
      }
      await this.resumeWaiting(tx, event, flowEvent);
      return this.start(tx, event, flowEvent);
    });
    this.onQueued(event.tenantid);
    return started;
  }

  /** Creates the runs this event triggers; answers how many were new. */
  private async start(tx: Tx, event: CloudEvent, flowEvent: FlowEvent): Promise<number> {
    const candidates = await this.repository.activeFlowsFor(
      tx,
      event.tenantid,
      event.type,
      event.clientid,
    );
    let created = 0;
    for (const { flow, version } of candidates) {
      const definition = version.definition as unknown as FlowDefinition;
      let matches: boolean;
      let concurrencyKey: string | null = null;
      try {
        matches = await matchesTrigger(definition, flowEvent);
        if (matches) concurrencyKey = await concurrencyKeyOf(definition, flowEvent);
      } catch (error) {
        this.logger.warn(
          { err: error, flowId: flow.id },
          'flow trigger filter or concurrency key failed',
        );
        continue;
      }
      if (!matches) continue;
      const first = firstStep(definition);
      const run = await this.repository.createRun(tx, {
        tenantId: event.tenantid,
        flowId: flow.id,
        version: version.version,
        clientId: flow.clientId ?? event.clientid,
        agentId: event.agentid,
        triggerEventId: event.id,
        triggerEvent: event,
        // Queued now, not when this transaction began (after the matching above): the start of
        // its dispatch, on the clock that times its steps.
        queuedAt: new Date(),
        status: first.kind === 'run' ? 'queued' : 'completed',
        cursor: first.kind === 'run' ? first.stepId : null,
        iterations: first.kind === 'run' ? { ...first.loopCounters } : {},
        vars: { ...definition.vars },
        concurrencyKey,
        deadlineAt: definition.timeoutSeconds
          ? new Date(Date.now() + definition.timeoutSeconds * 1000)
          : null,
      });
      if (run) {
        created += 1;
        this.metrics.runsStarted.inc({ trigger: 'event' });
      }
    }
    return created;
  }

  private async resumeWaiting(tx: Tx, event: CloudEvent, flowEvent: FlowEvent): Promise<void> {
    for (const place of await this.repository.waitingPlaces(tx, event.tenantid, event.type)) {
      const version = await this.repository.version(
        tx,
        event.tenantid,
        place.flowId,
        place.version,
      );
      const definition = version?.definition as unknown as FlowDefinition | undefined;
      const step = definition?.steps.find((s) => s.id === place.cursor);
      if (!definition || !step) continue;
      const key = await awaitedKey(step, event, flowEvent);
      // An event without the key resumes nothing (it would match every keyless wait).
      if (key === undefined || key === null) continue;
      const runs = await this.repository.waitingRuns(
        tx,
        event.tenantid,
        { ...place, cursor: step.id },
        event.type,
        JSON.stringify(key),
      );
      for (const run of runs) {
        await resumeWith(tx, this.repository, this.metrics, { definition, run, step, event });
      }
    }
  }
}

/** The correlation key this event carries for a step waiting on it (undefined: none). */
async function awaitedKey(step: FlowStep, event: CloudEvent, flowEvent: FlowEvent) {
  try {
    return step.type === 'wait_for_event'
      ? await eventKeyOf(step, flowEvent)
      : (event.data as { correlationId?: unknown }).correlationId;
  } catch {
    return undefined;
  }
}
