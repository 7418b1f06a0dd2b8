import { Global, Inject, Module } from '@nestjs/common';
import type { JobQueue } from '@maxai/core';
import type { DatabaseHandle, Tx } from '@maxai/db';
import type { Logger } from 'pino';
import { DATABASE } from '../../platform/database/database.module';
import { ROOT_LOGGER } from '../../platform/logging/logging.module';
import { JobRegistry } from '../../platform/queue/job-registry';
import { JOB_QUEUE } from '../../platform/queue/queue.tokens';
import { dispatchEventJob } from './dispatch-event.job';
import { EventSubscribers } from './event-subscribers';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

/**
 * Domain events (CloudEvents), appended in the transaction of the change they describe, and
 * dispatched from that outbox to the subscribers registered by type.
 */
@Global()
@Module({
  controllers: [EventsController],
  providers: [
    EventSubscribers,
    {
      provide: EventsService,
      inject: [DATABASE, JOB_QUEUE],
      useFactory: (database: DatabaseHandle, queue: JobQueue<Tx>) =>
        new EventsService(database.db, queue),
    },
  ],
  exports: [EventsService, EventSubscribers],
})
export class EventsModule {
  constructor(
    @Inject(JobRegistry) registry: JobRegistry,
    @Inject(EventsService) events: EventsService,
    @Inject(EventSubscribers) subscribers: EventSubscribers,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    registry.register(dispatchEventJob(events, subscribers, logger.child({ component: 'events' })));
  }
}
