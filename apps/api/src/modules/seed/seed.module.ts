import { Inject, Module, type OnApplicationBootstrap } from '@nestjs/common';
import type { DatabaseHandle } from '@maxai/db';
import type { Logger } from 'pino';
import { CONFIG, ROLE, type Role } from '../../platform/config/config.module';
import type { AppConfig } from '../../platform/config/config.schema';
import { DATABASE } from '../../platform/database/database.module';
import { ROOT_LOGGER } from '../../platform/logging/logging.module';
import { AuditService } from '../audit/audit.service';
import { IamRepository } from '../iam/iam.repository';
import { TenancyRepository } from '../tenancy/tenancy.repository';
import { seedBanner, SeedService } from './seed.service';

/** Seeds an empty database at start (SEED_ON_START) and serves `npm run seed`. */
@Module({
  providers: [
    {
      provide: SeedService,
      inject: [DATABASE, IamRepository, AuditService],
      useFactory: (database: DatabaseHandle, iam: IamRepository, audit: AuditService) =>
        new SeedService(database.db, iam, new TenancyRepository(), audit),
    },
  ],
  exports: [SeedService],
})
export class SeedModule implements OnApplicationBootstrap {
  constructor(
    @Inject(SeedService) private readonly seed: SeedService,
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(ROLE) private readonly role: Role,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.SEED_ON_START || this.role === 'worker') return;
    const seeded = await this.seed.seedIfEmpty({
      email: this.config.SEED_ADMIN_EMAIL,
      password: this.config.SEED_ADMIN_PASSWORD,
    });
    if (!seeded) return;
    this.logger.info(
      { tenantId: seeded.tenantId, email: seeded.email },
      'seeded an empty database',
    );
    // Printed, not logged: the one place the generated password appears.
    process.stdout.write(`${seedBanner(seeded)}\n`);
  }
}
