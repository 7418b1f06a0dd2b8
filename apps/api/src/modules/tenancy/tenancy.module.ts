import { Module } from '@nestjs/common';
import type { DatabaseHandle } from '@maxai/db';
import { DATABASE } from '../../platform/database/database.module';
import { AuditService } from '../audit/audit.service';
import { AgentsController, ClientsController } from './tenancy.controller';
import { TenancyRepository } from './tenancy.repository';
import { TenancyService } from './tenancy.service';
import { TenantsController } from './tenants.controller';
import { TenantsService } from './tenants.service';
import { PrincipalCache } from '../iam/principal-cache';

/** Clients (sub-accounts) and their agents (AI employees). */
@Module({
  controllers: [TenantsController, ClientsController, AgentsController],
  providers: [
    {
      provide: TenantsService,
      inject: [DATABASE, AuditService, PrincipalCache],
      useFactory: (database: DatabaseHandle, audit: AuditService, cache: PrincipalCache) =>
        new TenantsService(database.db, audit, cache),
    },
    {
      provide: TenancyService,
      inject: [DATABASE, AuditService],
      useFactory: (database: DatabaseHandle, audit: AuditService) =>
        new TenancyService(database.db, new TenancyRepository(), audit),
    },
  ],
})
export class TenancyModule {}
