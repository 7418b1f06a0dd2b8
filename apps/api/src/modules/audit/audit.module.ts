import { Global, Module } from '@nestjs/common';
import type { DatabaseHandle } from '@maxai/db';
import { DATABASE } from '../../platform/database/database.module';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

/** The tamper-evident audit trail; other modules record through AuditService in their tx. */
@Global()
@Module({
  controllers: [AuditController],
  providers: [
    {
      provide: AuditService,
      inject: [DATABASE],
      useFactory: (database: DatabaseHandle) => new AuditService(new AuditRepository(database.db)),
    },
  ],
  exports: [AuditService],
})
export class AuditModule {}
