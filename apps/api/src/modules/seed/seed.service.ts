import { randomBytes } from 'node:crypto';
import { selectRows, tenants, users, withTenant, type Database, type Tx } from '@maxai/db';
import { sql } from 'drizzle-orm';
import { uuidv7 } from 'uuidv7';
import type { AuditService } from '../audit/audit.service';
import type { IamRepository } from '../iam/iam.repository';
import { hashPassword } from '../iam/passwords';
import type { TenancyRepository } from '../tenancy/tenancy.repository';

export interface SeededAdmin {
  email: string;
  /** Shown once; null when it came from SEED_ADMIN_PASSWORD. */
  generatedPassword: string | null;
  tenantId: string;
}

/** Any fixed key: taken inside the seeding transaction so two replicas cannot both seed. */
const SEED_LOCK = 0x6d617861_7365;

/**
 * The first start on an empty database creates a platform admin and a demo tenant, "Acme
 * Agency", with a client "Bright Smiles Dental" and its agent "Front Desk".
 */
export class SeedService {
  constructor(
    private readonly db: Database,
    private readonly iam: IamRepository,
    private readonly tenancy: TenancyRepository,
    private readonly audit: AuditService,
  ) {}

  async seedIfEmpty(options: {
    email: string;
    password?: string | undefined;
  }): Promise<SeededAdmin | undefined> {
    const countUsers = async (executor: Database | Tx) => {
      const [row] = await selectRows<{ n: number }>(
        executor,
        sql`select count(*)::int as n from ${users}`,
      );
      return row?.n ?? 0;
    };
    // The cheap check first: most starts find users and skip the password hashing.
    if ((await countUsers(this.db)) > 0) return undefined;
    const tenantId = uuidv7();
    const password = options.password ?? randomBytes(15).toString('base64url');
    const passwordHash = await hashPassword(password);
    return withTenant(this.db, tenantId, async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${SEED_LOCK})`);
      if ((await countUsers(tx)) > 0) return undefined;
      const admin = await this.iam.insertUser(tx, {
        email: options.email,
        passwordHash,
        name: 'Platform Admin',
        emailVerified: true,
        platformRole: 'platform_admin',
      });
      await tx.insert(tenants).values({ id: tenantId, name: 'Acme Agency' });
      await this.iam.insertMembership(tx, { tenantId, userId: admin.id, role: 'owner' });
      const client = await this.tenancy.insertClient(tx, tenantId, {
        name: 'Bright Smiles Dental',
      });
      const agent = await this.tenancy.insertAgent(tx, tenantId, {
        clientId: client.id,
        name: 'Front Desk',
        channel: 'voice',
        status: 'draft',
        timezone: 'America/New_York',
        settings: {},
      });
      const actor = { type: 'system' as const };
      for (const [action, target] of [
        ['tenant.created', { type: 'tenant', id: tenantId }],
        ['client.created', { type: 'client', id: client.id }],
        ['agent.created', { type: 'agent', id: agent.id }],
      ] as const) {
        await this.audit.record(tx, { tenantId, actor, action, target, changes: { seed: true } });
      }
      return {
        email: admin.email,
        generatedPassword: options.password ? null : password,
        tenantId,
      };
    });
  }
}

/** The one-time banner with the admin's credentials. */
export function seedBanner(seeded: SeededAdmin): string {
  const password = seeded.generatedPassword ?? '(from SEED_ADMIN_PASSWORD)';
  return [
    '',
    '  First start: created a platform admin and the demo tenant "Acme Agency".',
    `    email:    ${seeded.email}`,
    `    password: ${password}`,
    '  This password is shown once. Sign in with POST /v1/auth/login, then enrol a second',
    '  factor (POST /v1/auth/mfa/totp/enrol): platform staff act only with one.',
    '',
  ].join('\n');
}
