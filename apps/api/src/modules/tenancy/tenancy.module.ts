import { Module } from '@nestjs/common';
import type { DatabaseHandle } from '@maxai/db';
import { DATABASE } from '../../platform/database/database.module';
import { AuditService } from '../audit/audit.service';
import { AgentsController, ClientsController } from './tenancy.controller';
import { TenancyRepository } from './tenancy.repository';
import { TenancyService } from './tenancy.service';
import { TenantSettingsController } from './tenant-settings.controller';
import { TenantSettingsRepository } from './tenant-settings.repository';
import { TenantSettingsService } from './tenant-settings.service';
import { TenantsController } from './tenants.controller';
import { TenantsService } from './tenants.service';
import { PrincipalCache } from '../iam/principal-cache';

/** Tenants and their settings, clients (sub-accounts) and their agents (AI employees). */
@Module({
  controllers: [TenantsController, TenantSettingsController, ClientsController, AgentsController],
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
    {
      provide: TenantSettingsService,
      inject: [DATABASE, AuditService, PrincipalCache],
      useFactory: (database: DatabaseHandle, audit: AuditService, cache: PrincipalCache) =>
        new TenantSettingsService(database.db, new TenantSettingsRepository(), audit, cache),
    },
  ],
  exports: [TenantSettingsService],
})
export class TenancyModule {}
