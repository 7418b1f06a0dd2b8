import { sql, type SQL } from 'drizzle-orm';
import {
  index,
  integer,
  jsonb,
  pgPolicy,
  pgRole,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { uuidv7 } from 'uuidv7';

/**
 * The role the application runs as. It does not own the tables, so row-level security applies to
 * it (FORCE is set as well, so even the owner is filtered). Created by migration 0000.
 */
export const APP_ROLE_NAME = 'maxai_app';
export const appRole = pgRole(APP_ROLE_NAME).existing();

/** The tenant of the current transaction, or NULL (which matches no row) when none is set. */
export const currentTenantSql = sql`nullif(current_setting('app.tenant_id', true), '')::uuid`;
/** Set only by `withSystem`: platform processes (job runner, relay) that work across tenants. */
export const systemContextSql = sql`current_setting('app.system', true) = 'on'`;

const tenantMatches = (column: AnyPgColumn): SQL => sql`${column} = ${currentTenantSql}`;

/** The two policies every tenant-owned table carries: its own tenant's rows, or system context. */
function tenantPolicies(name: string, column: AnyPgColumn) {
  return [
    pgPolicy(`${name}_tenant_isolation`, {
      as: 'permissive',
      for: 'all',
      to: appRole,
      using: tenantMatches(column),
      withCheck: tenantMatches(column),
    }),
    pgPolicy(`${name}_system_access`, {
      as: 'permissive',
      for: 'all',
      to: appRole,
      using: systemContextSql,
      withCheck: systemContextSql,
    }),
  ];
}

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

export const tenants = pgTable(
  'tenants',
  {
    id: uuid('id')
      .primaryKey()
      .$defaultFn(() => uuidv7()),
    name: text('name').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => tenantPolicies('tenants', t.id),
).enableRLS();

export const JOB_STATUSES = ['pending', 'running', 'relayed', 'succeeded', 'dead'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * The durable job outbox. A row is written in the caller's transaction; the in-process runner
 * claims it with FOR UPDATE SKIP LOCKED, or the relay hands it to BullMQ. It stays the record of
 * truth for status, attempts and dead letters in both modes.
 */
export const jobs = pgTable(
  'jobs',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    name: text('name').notNull(),
    payload: jsonb('payload').notNull().$type<Record<string, unknown>>(),
    correlationId: text('correlation_id').notNull(),
    status: text('status', { enum: JOB_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    /** Bumped by a manual retry so the BullMQ job id of the new generation is fresh. */
    generation: integer('generation').notNull().default(0),
    runAt: timestamp('run_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lockedBy: text('locked_by'),
    lastError: text('last_error'),
    dedupeKey: text('dedupe_key'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('jobs_id_key').on(t.id),
    uniqueIndex('jobs_tenant_dedupe_key').on(t.tenantId, t.dedupeKey),
    index('jobs_claimable_idx').on(t.status, t.runAt),
    ...tenantPolicies('jobs', t.tenantId),
  ],
).enableRLS();
