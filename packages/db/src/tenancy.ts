import { sql } from 'drizzle-orm';
import type { Database, Tx } from './client';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class InvalidTenantIdError extends Error {
  constructor(value: string) {
    super(`tenant id must be a UUID, got ${JSON.stringify(value.slice(0, 64))}`);
    this.name = 'InvalidTenantIdError';
  }
}

export function assertTenantId(tenantId: string): void {
  if (!UUID_PATTERN.test(tenantId)) throw new InvalidTenantIdError(tenantId);
}

/**
 * Runs `fn` in a transaction whose row-level security context is `tenantId`
 * (`SET LOCAL app.tenant_id`): every query inside sees and writes that tenant's rows only, and
 * the setting ends with the transaction, so a pooled connection never leaks it.
 */
export async function withTenant<T>(
  db: Database,
  tenantId: string,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  assertTenantId(tenantId);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('app.tenant_id', ${tenantId}, true)`);
    return fn(tx);
  });
}

/**
 * Runs `fn` in a transaction that may read and write every tenant's rows. Only platform
 * processes use it (job runner, outbox relay, internal operations endpoints) — never a request
 * handler acting for a tenant.
 */
export async function withSystem<T>(db: Database, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('app.system', 'on', true)`);
    return fn(tx);
  });
}
