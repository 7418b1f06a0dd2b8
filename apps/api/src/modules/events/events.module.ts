import { Global, Module } from '@nestjs/common';
import type { DatabaseHandle } from '@maxai/db';
import { DATABASE } from '../../platform/database/database.module';
import { EventsController } from './events.controller';
import { EventsService } from './events.service';

/** Domain events (CloudEvents), appended in the transaction of the change they describe. */
@Global()
@Module({
  controllers: [EventsController],
  providers: [
    {
      provide: EventsService,
      inject: [DATABASE],
      useFactory: (database: DatabaseHandle) => new EventsService(database.db),
    },
  ],
  exports: [EventsService],
})
export class EventsModule {}
