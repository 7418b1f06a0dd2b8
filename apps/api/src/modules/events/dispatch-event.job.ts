import type { Logger } from 'pino';
import { z } from 'zod';
import { defineJob, jobEnvelopeSchema } from '../../platform/queue/job-registry';
import type { EventSubscribers } from './event-subscribers';
import type { EventsService } from './events.service';

export const DISPATCH_EVENT_JOB = 'events.dispatch-event.v1';

const payloadSchema = jobEnvelopeSchema.extend({ eventId: z.uuid() });
export type DispatchEventPayload = z.infer<typeof payloadSchema>;

/**
 * The outbox consumer: hands one stored event to every matching subscriber, then records the
 * dispatch. A failing subscriber fails the job (retried with backoff, dead-lettered after the
 * last attempt); the others ran and will run again — subscribers are idempotent.
 */
export function dispatchEventJob(
  events: EventsService,
  subscribers: EventSubscribers,
  logger: Logger,
) {
  return defineJob<DispatchEventPayload>({
    name: DISPATCH_EVENT_JOB,
    schema: payloadSchema,
    maxAttempts: 10,
    async handler(payload) {
      const event = await events.get(payload.tenantId, payload.eventId);
      if (!event) return;
      const failures: string[] = [];
      for (const subscriber of subscribers.matching(event.type)) {
        try {
          await subscriber.handle(event);
        } catch (error) {
          failures.push(subscriber.name);
          logger.warn(
            { err: error, subscriber: subscriber.name, eventId: event.id, type: event.type },
            'event subscriber failed',
          );
        }
      }
      if (failures.length > 0) {
        throw new Error(`subscribers failed: ${failures.join(', ')}`);
      }
      await events.markDispatched(payload.tenantId, payload.eventId);
    },
  });
}
