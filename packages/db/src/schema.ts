import { sql, type SQL } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgPolicy,
  pgRole,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
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

export const TENANT_STATUSES = ['active', 'suspended'] as const;

export const tenants = pgTable(
  'tenants',
  {
    id: uuid('id')
      .primaryKey()
      .$defaultFn(() => uuidv7()),
    name: text('name').notNull(),
    /** A suspended tenant's members lose access to it; platform staff keep it. */
    status: text('status', { enum: TENANT_STATUSES }).notNull().default('active'),
    suspendedAt: timestamp('suspended_at', { withTimezone: true }),
    /** Members must have a second factor (TOTP) to act in this tenant. */
    requireMfa: boolean('require_mfa').notNull().default(false),
    /** How long audit events are kept (days); the spec's floor is seven years. */
    auditRetentionDays: integer('audit_retention_days').notNull().default(2557),
    /** Hosts flows' `http.request` steps may call (exact, or `*.example.com`). */
    flowHttpAllowlist: jsonb('flow_http_allowlist').notNull().default([]).$type<string[]>(),
    /** Moving a protected prompt label needs a second person's approval. */
    requirePromptApproval: boolean('require_prompt_approval').notNull().default(false),
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

export const CLIENT_STATUSES = ['active', 'suspended'] as const;

/** A tenant's sub-account (e.g. one of an agency's customers). */
export const clients = pgTable(
  'clients',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    name: text('name').notNull(),
    status: text('status', { enum: CLIENT_STATUSES }).notNull().default('active'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), ...tenantPolicies('clients', t.tenantId)],
).enableRLS();

export const AGENT_CHANNELS = ['voice', 'sms', 'chat'] as const;
export const AGENT_STATUSES = ['draft', 'active', 'paused'] as const;

/** An AI employee, owned by one client of a tenant. */
export const agents = pgTable(
  'agents',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    clientId: uuid('client_id').notNull(),
    name: text('name').notNull(),
    channel: text('channel', { enum: AGENT_CHANNELS }).notNull(),
    status: text('status', { enum: AGENT_STATUSES }).notNull().default('draft'),
    timezone: text('timezone').notNull().default('UTC'),
    settings: jsonb('settings').notNull().default({}).$type<Record<string, unknown>>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({
      columns: [t.tenantId, t.clientId],
      foreignColumns: [clients.tenantId, clients.id],
    }),
    index('agents_client_idx').on(t.tenantId, t.clientId),
    ...tenantPolicies('agents', t.tenantId),
  ],
).enableRLS();

export const ACTOR_TYPES = ['user', 'api_key', 'system', 'platform_staff'] as const;
export const AUDIT_OUTCOMES = ['success', 'failure', 'denied'] as const;

/**
 * Append-only audit trail. Each tenant's entries form a hash chain (`seq` 1, 2, …; `hash` =
 * SHA-256 of the previous hash and the entry's canonical JSON): an edit, deletion or reordering
 * breaks it. The application role may only INSERT and SELECT (migration 0004).
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    tenantId: uuid('tenant_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    occurredAt: timestamp('occurred_at', { withTimezone: true, precision: 3 }).notNull(),
    actorType: text('actor_type', { enum: ACTOR_TYPES }).notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    outcome: text('outcome', { enum: AUDIT_OUTCOMES }).notNull(),
    correlationId: text('correlation_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    changes: jsonb('changes').$type<Record<string, unknown>>(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.seq] }),
    uniqueIndex('audit_events_id_key').on(t.tenantId, t.id),
    index('audit_events_time_idx').on(t.tenantId, t.occurredAt),
    ...tenantPolicies('audit_events', t.tenantId),
  ],
).enableRLS();

/** The head of each tenant's audit chain: appends lock this row, so sequence numbers never race. */
export const auditChainHeads = pgTable(
  'audit_chain_heads',
  {
    tenantId: uuid('tenant_id').primaryKey(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    hash: text('hash').notNull(),
  },
  (t) => tenantPolicies('audit_chain_heads', t.tenantId),
).enableRLS();

/**
 * Signed checkpoints of a tenant's audit chain: the head (`seq`, `hash`) signed with an Ed25519
 * audit key. An archive holding a checkpoint proves the chain up to it was not rewritten later.
 */
export const auditCheckpoints = pgTable(
  'audit_checkpoints',
  {
    tenantId: uuid('tenant_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    hash: text('hash').notNull(),
    kid: text('kid').notNull(),
    /** base64url Ed25519 signature over the checkpoint's canonical JSON. */
    signature: text('signature').notNull(),
    signedAt: timestamp('signed_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.seq] }),
    ...tenantPolicies('audit_checkpoints', t.tenantId),
  ],
).enableRLS();

export const USER_STATUSES = ['active', 'disabled'] as const;

/** A global identity; what it may do in a tenant comes from its memberships. */
export const users = pgTable(
  'users',
  {
    id: uuid('id')
      .primaryKey()
      .$defaultFn(() => uuidv7()),
    /** Stored lower-cased: one account per address whatever its spelling. */
    email: text('email').notNull(),
    passwordHash: text('password_hash'),
    emailVerified: boolean('email_verified').notNull().default(false),
    name: text('name'),
    platformRole: text('platform_role', { enum: ['platform_admin', 'platform_support'] }),
    status: text('status', { enum: USER_STATUSES }).notNull().default('active'),
    /** AES-256-GCM sealed TOTP secret (RFC 6238); set at enrolment, confirmed by a first code. */
    totpSecretEncrypted: text('totp_secret_encrypted'),
    totpEnabledAt: timestamp('totp_enabled_at', { withTimezone: true }),
    /** The last accepted TOTP time step: a code is never accepted twice. */
    totpLastStep: bigint('totp_last_step', { mode: 'number' }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('users_email_key').on(t.email)],
);

/** Single-use second-factor recovery codes, stored as SHA-256 hashes. */
export const recoveryCodes = pgTable(
  'recovery_codes',
  {
    id: uuid('id')
      .primaryKey()
      .$defaultFn(() => uuidv7()),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    codeHash: text('code_hash').notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('recovery_codes_user_hash_key').on(t.userId, t.codeHash)],
);

/** A user's identity at an external OpenID provider (e.g. Google), by the provider's subject. */
export const userIdentities = pgTable(
  'user_identities',
  {
    provider: text('provider').notNull(),
    subject: text('subject').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    email: text('email').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.provider, t.subject] }),
    index('user_identities_user_idx').on(t.userId),
  ],
);

/** A user's role in a tenant (null when the user holds only client-level roles there). */
export const memberships = pgTable(
  'memberships',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    role: text('role', { enum: ['owner', 'admin', 'member', 'billing'] }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.userId] }),
    index('memberships_user_idx').on(t.userId),
    ...tenantPolicies('memberships', t.tenantId),
  ],
).enableRLS();

/** A user's role on one client of a tenant. */
export const clientMemberships = pgTable(
  'client_memberships',
  {
    tenantId: uuid('tenant_id').notNull(),
    clientId: uuid('client_id').notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    role: text('role', { enum: ['client_admin', 'client_editor', 'client_viewer'] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.clientId, t.userId] }),
    foreignKey({
      columns: [t.tenantId, t.clientId],
      foreignColumns: [clients.tenantId, clients.id],
    }),
    index('client_memberships_user_idx').on(t.userId),
    ...tenantPolicies('client_memberships', t.tenantId),
  ],
).enableRLS();

/**
 * Opaque refresh tokens, stored as SHA-256 hashes. Each use rotates the token within its family;
 * presenting a rotated token again (a stolen copy) revokes the whole family.
 */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: uuid('id')
      .primaryKey()
      .$defaultFn(() => uuidv7()),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    familyId: uuid('family_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    rotatedAt: timestamp('rotated_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    /** The session was opened with a second factor; rotations keep it. */
    mfa: boolean('mfa').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('refresh_tokens_hash_key').on(t.tokenHash),
    index('refresh_tokens_family_idx').on(t.familyId),
  ],
);

/**
 * Signing keys by use: `jwt` keys sign access tokens (the newest unretired one signs; every
 * unretired one verifies, JWKS); `audit` keys (Ed25519) sign audit checkpoints.
 */
export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  use: text('use', { enum: ['jwt', 'audit'] })
    .notNull()
    .default('jwt'),
  alg: text('alg').notNull(),
  publicJwk: jsonb('public_jwk').notNull().$type<Record<string, unknown>>(),
  /** AES-256-GCM ciphertext of the private JWK under the master key. */
  privateJwkEncrypted: text('private_jwk_encrypted').notNull(),
  createdAt: createdAt(),
  retiredAt: timestamp('retired_at', { withTimezone: true }),
});

/**
 * Server-to-server credentials: scoped to a tenant (or one of its clients), holding an explicit
 * permission set. Only a SHA-256 of the key is stored; the key itself is shown once.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    clientId: uuid('client_id'),
    name: text('name').notNull(),
    /** The key's first characters, shown in lists so a key can be recognised. */
    displayPrefix: text('display_prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    permissions: jsonb('permissions').notNull().$type<string[]>(),
    createdBy: uuid('created_by').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('api_keys_hash_key').on(t.keyHash),
    foreignKey({
      columns: [t.tenantId, t.clientId],
      foreignColumns: [clients.tenantId, clients.id],
    }),
    ...tenantPolicies('api_keys', t.tenantId),
  ],
).enableRLS();

/**
 * An invitation to join a tenant (with a tenant role) or one of its clients (with a client
 * role). The token is sent by email and stored hashed; it is single use and expires.
 */
export const invitations = pgTable(
  'invitations',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    email: text('email').notNull(),
    role: text('role', { enum: ['owner', 'admin', 'member', 'billing'] }),
    clientId: uuid('client_id'),
    clientRole: text('client_role', { enum: ['client_admin', 'client_editor', 'client_viewer'] }),
    tokenHash: text('token_hash').notNull(),
    invitedBy: uuid('invited_by').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    acceptedAt: timestamp('accepted_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('invitations_token_key').on(t.tokenHash),
    ...tenantPolicies('invitations', t.tenantId),
  ],
).enableRLS();

/** Single-use tokens sent by email (password reset, email verification), stored hashed. */
export const oneTimeTokens = pgTable(
  'one_time_tokens',
  {
    id: uuid('id')
      .primaryKey()
      .$defaultFn(() => uuidv7()),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    purpose: text('purpose', { enum: ['password_reset', 'email_verification'] }).notNull(),
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('one_time_tokens_hash_key').on(t.tokenHash)],
);

/**
 * Per-tenant data keys of envelope encryption: AES-256 keys wrapped by the master key (KMS port);
 * the newest wraps new secrets, older ones still open what they sealed. Rotating the master key
 * re-wraps these rows only (`npm run keys:rotate`); the secrets stay as they are.
 */
export const tenantDataKeys = pgTable(
  'tenant_data_keys',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    /** Which master key wrapped it. */
    kekId: text('kek_id').notNull(),
    wrappedKey: text('wrapped_key').notNull(),
    createdAt: createdAt(),
    rewrappedAt: timestamp('rewrapped_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    ...tenantPolicies('tenant_data_keys', t.tenantId),
  ],
).enableRLS();

export const CONNECTION_STATUSES = ['active', 'needs_reauth', 'disconnected'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/**
 * A tenant's (or one of its clients') credentials at a provider: OAuth tokens or an API key,
 * sealed with the tenant's data key (`tenantId:connectionId` as associated data). Only
 * non-secret facts (`attributes`, e.g. GoHighLevel's locationId) are stored in the clear.
 */
export const connections = pgTable(
  'connections',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    clientId: uuid('client_id'),
    provider: text('provider').notNull(),
    authType: text('auth_type', { enum: ['oauth2', 'api_key'] }).notNull(),
    name: text('name').notNull(),
    status: text('status', { enum: CONNECTION_STATUSES }).notNull().default('active'),
    credentialsSealed: text('credentials_sealed').notNull(),
    attributes: jsonb('attributes').notNull().$type<Record<string, string>>().default({}),
    accessExpiresAt: timestamp('access_expires_at', { withTimezone: true }),
    lastRefreshedAt: timestamp('last_refreshed_at', { withTimezone: true }),
    lastError: text('last_error'),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('connections_id_key').on(t.id),
    index('connections_expiry_idx').on(t.accessExpiresAt),
    foreignKey({
      columns: [t.tenantId, t.clientId],
      foreignColumns: [clients.tenantId, clients.id],
    }),
    ...tenantPolicies('connections', t.tenantId),
  ],
).enableRLS();

/**
 * A pending OAuth connect: the one-time `state` (stored hashed), bound to tenant, client and
 * user, with the PKCE verifier sealed; spent by the provider's callback within ten minutes.
 */
export const oauthStates = pgTable(
  'oauth_states',
  {
    tenantId: uuid('tenant_id').notNull(),
    stateHash: text('state_hash').notNull(),
    clientId: uuid('client_id'),
    userId: text('user_id').notNull(),
    provider: text('provider').notNull(),
    name: text('name').notNull(),
    codeVerifierSealed: text('code_verifier_sealed'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.stateHash] }), ...tenantPolicies('oauth_states', t.tenantId)],
).enableRLS();

export const PORT_NAMES = [
  'crm',
  'calendar',
  'voice',
  'messaging',
  'llm',
  'payments',
  'workflow',
] as const;
export type PortName = (typeof PORT_NAMES)[number];

/**
 * Which connection serves which port: per tenant, overridden per client, then per agent (the
 * most specific binding wins).
 */
export const portBindings = pgTable(
  'port_bindings',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    clientId: uuid('client_id'),
    agentId: uuid('agent_id'),
    port: text('port', { enum: PORT_NAMES }).notNull(),
    connectionId: uuid('connection_id').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    unique('port_bindings_scope_key')
      .on(t.tenantId, t.clientId, t.agentId, t.port)
      .nullsNotDistinct(),
    foreignKey({
      columns: [t.tenantId, t.connectionId],
      foreignColumns: [connections.tenantId, connections.id],
    }).onDelete('cascade'),
    ...tenantPolicies('port_bindings', t.tenantId),
  ],
).enableRLS();

/**
 * Domain events as CloudEvents 1.0 (ARCHITECTURE.md §4): appended in the transaction of the
 * change they describe, so an event exists exactly when its change does. Delivery to consumers
 * (webhooks out, flows) reads from here.
 */
export const domainEvents = pgTable(
  'domain_events',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    type: text('type').notNull(),
    source: text('source').notNull(),
    subject: text('subject'),
    clientId: uuid('client_id'),
    time: timestamp('time', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    correlationId: text('correlation_id'),
    data: jsonb('data').notNull().$type<Record<string, unknown>>(),
    /** The agent the event concerns, when attribution found one. */
    agentId: uuid('agent_id'),
    /** The webhook delivery this event was normalized from (provider events only). */
    deliveryId: uuid('delivery_id'),
    /** Set by the dispatcher after every subscriber handled the event (replays count too). */
    dispatchedAt: timestamp('dispatched_at', { withTimezone: true, precision: 3 }),
    dispatchCount: integer('dispatch_count').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('domain_events_type_idx').on(t.tenantId, t.type, t.time),
    index('domain_events_delivery_idx').on(t.tenantId, t.deliveryId),
    ...tenantPolicies('domain_events', t.tenantId),
  ],
).enableRLS();

export const WEBHOOK_ENDPOINT_STATUSES = ['active', 'disabled'] as const;

/**
 * Where a provider posts its webhooks: `POST /webhooks/{provider}/{id}`. The id is random (not
 * time-ordered) and unguessable; it routes the request to its tenant, client and connection.
 * The verifier's key material is sealed with the tenant's data key.
 */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    provider: text('provider').notNull(),
    clientId: uuid('client_id'),
    connectionId: uuid('connection_id'),
    name: text('name').notNull(),
    status: text('status', { enum: WEBHOOK_ENDPOINT_STATUSES }).notNull().default('active'),
    secretsSealed: text('secrets_sealed').notNull(),
    /** Requests per minute this endpoint accepts before answering 429. */
    rateLimitPerMinute: integer('rate_limit_per_minute').notNull().default(6000),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('webhook_endpoints_id_key').on(t.id),
    foreignKey({
      columns: [t.tenantId, t.clientId],
      foreignColumns: [clients.tenantId, clients.id],
    }).onDelete('cascade'),
    foreignKey({
      columns: [t.tenantId, t.connectionId],
      foreignColumns: [connections.tenantId, connections.id],
    }).onDelete('set null'),
    ...tenantPolicies('webhook_endpoints', t.tenantId),
  ],
).enableRLS();

export const WEBHOOK_DELIVERY_STATUSES = ['accepted', 'unprocessable'] as const;

/**
 * One verified webhook request, stored before it is acknowledged. Unique per provider event id,
 * so a redelivery only bumps `duplicate_count`. The raw body is sealed and purged after the
 * retention period; the normalized events (domain_events.delivery_id) are kept.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    endpointId: uuid('endpoint_id').notNull(),
    provider: text('provider').notNull(),
    clientId: uuid('client_id'),
    agentId: uuid('agent_id'),
    providerEventId: text('provider_event_id').notNull(),
    providerEventType: text('provider_event_type'),
    status: text('status', { enum: WEBHOOK_DELIVERY_STATUSES }).notNull(),
    failureReason: text('failure_reason'),
    signatureScheme: text('signature_scheme').notNull(),
    headers: jsonb('headers').notNull().$type<Record<string, string>>(),
    bodySealed: text('body_sealed'),
    bodySha256: text('body_sha256').notNull(),
    bodyBytes: integer('body_bytes').notNull(),
    sourceIp: text('source_ip'),
    receivedAt: timestamp('received_at', { withTimezone: true, precision: 3 })
      .notNull()
      .defaultNow(),
    duplicateCount: integer('duplicate_count').notNull().default(0),
    lastDuplicateAt: timestamp('last_duplicate_at', { withTimezone: true, precision: 3 }),
    purgedAt: timestamp('purged_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    unique('webhook_deliveries_dedupe_key').on(t.tenantId, t.provider, t.providerEventId),
    index('webhook_deliveries_received_idx').on(t.tenantId, t.receivedAt),
    index('webhook_deliveries_endpoint_idx').on(t.tenantId, t.endpointId, t.receivedAt),
    index('webhook_deliveries_purge_idx')
      .on(t.receivedAt)
      .where(sql`body_sealed is not null`),
    ...tenantPolicies('webhook_deliveries', t.tenantId),
  ],
).enableRLS();

export const EXTERNAL_ID_KINDS = ['voice_agent', 'phone_number', 'location'] as const;

/**
 * Which client (and agent) a provider's identifier inside a payload belongs to: a Retell agent
 * id, a phone number of ours, a GoHighLevel location.
 */
export const externalIds = pgTable(
  'external_ids',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    provider: text('provider').notNull(),
    kind: text('kind', { enum: EXTERNAL_ID_KINDS }).notNull(),
    externalId: text('external_id').notNull(),
    clientId: uuid('client_id').notNull(),
    agentId: uuid('agent_id'),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    unique('external_ids_lookup_key').on(t.tenantId, t.provider, t.kind, t.externalId),
    foreignKey({
      columns: [t.tenantId, t.clientId],
      foreignColumns: [clients.tenantId, clients.id],
    }).onDelete('cascade'),
    foreignKey({
      columns: [t.tenantId, t.agentId],
      foreignColumns: [agents.tenantId, agents.id],
    }).onDelete('cascade'),
    ...tenantPolicies('external_ids', t.tenantId),
  ],
).enableRLS();

/**
 * A flow (trigger → steps → ports) of a tenant, or of one of its clients. Its definitions are
 * immutable versions; `activeVersion` is what new runs start on (null: inactive).
 */
export const flows = pgTable(
  'flows',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    clientId: uuid('client_id'),
    name: text('name').notNull(),
    activeVersion: integer('active_version'),
    /** Installed from a bundled template (its key), if it was. */
    template: text('template'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('flows_active_idx')
      .on(t.tenantId)
      .where(sql`active_version is not null`),
    foreignKey({
      columns: [t.tenantId, t.clientId],
      foreignColumns: [clients.tenantId, clients.id],
    }).onDelete('cascade'),
    ...tenantPolicies('flows', t.tenantId),
  ],
).enableRLS();

export const flowVersions = pgTable(
  'flow_versions',
  {
    tenantId: uuid('tenant_id').notNull(),
    flowId: uuid('flow_id').notNull(),
    version: integer('version').notNull(),
    definition: jsonb('definition').notNull().$type<Record<string, unknown>>(),
    changeNote: text('change_note'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.flowId, t.version] }),
    foreignKey({
      columns: [t.tenantId, t.flowId],
      foreignColumns: [flows.tenantId, flows.id],
    }).onDelete('cascade'),
    ...tenantPolicies('flow_versions', t.tenantId),
  ],
).enableRLS();

export const FLOW_RUN_STATUSES = [
  'queued',
  'running',
  'waiting',
  'completed',
  'failed',
  'cancelled',
  'timed_out',
] as const;
export type FlowRunStatus = (typeof FLOW_RUN_STATUSES)[number];

/**
 * One execution of a flow version for one triggering event (unique: an event starts a flow at
 * most once). The run's cursor, variables and loop counters are its durable state; a worker
 * holds it under a lease while executing.
 */
export const flowRuns = pgTable(
  'flow_runs',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    flowId: uuid('flow_id').notNull(),
    version: integer('version').notNull(),
    clientId: uuid('client_id'),
    agentId: uuid('agent_id'),
    triggerEventId: text('trigger_event_id').notNull(),
    triggerEvent: jsonb('trigger_event').notNull().$type<Record<string, unknown>>(),
    status: text('status', { enum: FLOW_RUN_STATUSES }).notNull().default('queued'),
    /** The next step to run (null: from the first). */
    cursor: text('cursor'),
    vars: jsonb('vars').notNull().default({}).$type<Record<string, unknown>>(),
    iterations: jsonb('iterations').notNull().default({}).$type<Record<string, number>>(),
    /** Steps completed so far, by id: `steps.<id>.output` in expressions. */
    outputs: jsonb('outputs').notNull().default({}).$type<Record<string, unknown>>(),
    /** wait_for_event: the type and correlation value awaited. */
    waitingType: text('waiting_type'),
    waitingKey: text('waiting_key'),
    /** When a waiting run becomes runnable again (delay, retry backoff, wait timeout). */
    wakeAt: timestamp('wake_at', { withTimezone: true, precision: 3 }),
    /** How many step executions the run has recorded (the current one's `seq`). */
    stepSeq: integer('step_seq').notNull().default(0),
    /** Rerun generation: part of every side effect's idempotency key. */
    attemptGroup: integer('attempt_group').notNull().default(0),
    deadlineAt: timestamp('deadline_at', { withTimezone: true, precision: 3 }),
    /**
     * The flow's `concurrencyKey` evaluated on the trigger event (JSON text; null without one):
     * runs of a flow with equal keys execute one at a time, in creation order.
     */
    concurrencyKey: text('concurrency_key'),
    lockedBy: text('locked_by'),
    lockedUntil: timestamp('locked_until', { withTimezone: true, precision: 3 }),
    error: text('error'),
    queuedAt: timestamp('queued_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true, precision: 3 }),
    finishedAt: timestamp('finished_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    unique('flow_runs_trigger_key').on(t.tenantId, t.flowId, t.triggerEventId),
    index('flow_runs_runnable_idx')
      .on(t.status, t.wakeAt)
      .where(sql`status in ('queued', 'running', 'waiting')`),
    index('flow_runs_waiting_idx')
      .on(t.tenantId, t.waitingType, t.waitingKey)
      .where(sql`status = 'waiting'`),
    index('flow_runs_list_idx').on(t.tenantId, t.flowId, t.queuedAt),
    index('flow_runs_concurrency_idx')
      .on(t.tenantId, t.flowId, t.concurrencyKey, t.id)
      .where(sql`concurrency_key is not null and status in ('queued', 'running', 'waiting')`),
    foreignKey({
      columns: [t.tenantId, t.flowId],
      foreignColumns: [flows.tenantId, flows.id],
    }).onDelete('cascade'),
    ...tenantPolicies('flow_runs', t.tenantId),
  ],
).enableRLS();

export const FLOW_STEP_STATUSES = [
  'running',
  'completed',
  'failed',
  'skipped',
  'waiting',
  'cancelled',
] as const;

/** One execution of one step of a run (a step in a loop runs more than once: `seq` orders them). */
export const flowRunSteps = pgTable(
  'flow_run_steps',
  {
    tenantId: uuid('tenant_id').notNull(),
    runId: uuid('run_id').notNull(),
    seq: integer('seq').notNull(),
    stepId: text('step_id').notNull(),
    type: text('type').notNull(),
    status: text('status', { enum: FLOW_STEP_STATUSES }).notNull(),
    input: jsonb('input').$type<Record<string, unknown>>(),
    output: jsonb('output'),
    attempts: integer('attempts').notNull().default(0),
    error: text('error'),
    errorKind: text('error_kind'),
    idempotencyKey: text('idempotency_key'),
    promptVersionId: text('prompt_version_id'),
    runnableAt: timestamp('runnable_at', { withTimezone: true, precision: 3 }).notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, precision: 3 }),
    finishedAt: timestamp('finished_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.runId, t.seq] }),
    foreignKey({
      columns: [t.tenantId, t.runId],
      foreignColumns: [flowRuns.tenantId, flowRuns.id],
    }).onDelete('cascade'),
    ...tenantPolicies('flow_run_steps', t.tenantId),
  ],
).enableRLS();

/**
 * Side effects sent to providers that honour no idempotency key, recorded before the call: a
 * crash between "provider accepted" and "we recorded it" leaves a `pending` entry, and the retry
 * does not send again (at most once, reported as in doubt).
 */
export const sideEffects = pgTable(
  'side_effects',
  {
    tenantId: uuid('tenant_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    runId: uuid('run_id').notNull(),
    stepId: text('step_id').notNull(),
    state: text('state', { enum: ['pending', 'done'] }).notNull(),
    result: jsonb('result'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.idempotencyKey] }),
    ...tenantPolicies('side_effects', t.tenantId),
  ],
).enableRLS();

export const USAGE_KINDS = ['llm_tokens', 'sms_segments', 'call_seconds', 'provider_call'] as const;

/**
 * What a step cost: LLM tokens, SMS segments, call seconds — attributed tenant → client → agent,
 * with flow, run and prompt version. Money in integer micro-dollars. Idempotent per (run, step,
 * attempt group, kind): the billing issue aggregates these.
 */
export const usageEvents = pgTable(
  'usage_events',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    clientId: uuid('client_id'),
    agentId: uuid('agent_id'),
    flowId: uuid('flow_id'),
    runId: uuid('run_id'),
    stepId: text('step_id'),
    attemptGroup: integer('attempt_group').notNull().default(0),
    kind: text('kind', { enum: USAGE_KINDS }).notNull(),
    provider: text('provider').notNull(),
    operation: text('operation').notNull(),
    quantity: bigint('quantity', { mode: 'number' }).notNull(),
    costMicros: bigint('cost_micros', { mode: 'number' }),
    currency: text('currency').notNull().default('USD'),
    promptVersionId: text('prompt_version_id'),
    reference: text('reference'),
    occurredAt: timestamp('occurred_at', { withTimezone: true, precision: 3 })
      .notNull()
      .defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('usage_events_step_key')
      .on(t.tenantId, t.runId, t.stepId, t.attemptGroup, t.kind)
      .where(sql`run_id is not null`),
    index('usage_events_client_idx').on(t.tenantId, t.clientId, t.occurredAt),
    ...tenantPolicies('usage_events', t.tenantId),
  ],
).enableRLS();

// ─── Prompts ────────────────────────────────────────────────────────────────────────────────

export const PROMPT_KINDS = ['text', 'chat'] as const;
export type PromptKind = (typeof PROMPT_KINDS)[number];
export const CHAT_ROLES = ['system', 'user', 'assistant'] as const;
export interface ChatMessage {
  role: (typeof CHAT_ROLES)[number];
  content: string;
}

/**
 * A prompt template, identified by its key (`front-desk/greeting`) in its tenant's shared
 * library (`client_id` null) or in one client's overrides. Labels on it that are protected
 * (`production` by default) move only with `prompts:publish`.
 */
export const promptTemplates = pgTable(
  'prompt_templates',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    clientId: uuid('client_id'),
    key: text('key').notNull(),
    kind: text('kind', { enum: PROMPT_KINDS }).notNull(),
    description: text('description').notNull().default(''),
    protectedLabels: text('protected_labels').array().notNull().default(['production']),
    /** The highest version number given out (versions are numbered 1, 2, … per template). */
    latestVersion: integer('latest_version').notNull().default(0),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    unique('prompt_templates_scope_key').on(t.tenantId, t.clientId, t.key).nullsNotDistinct(),
    index('prompt_templates_key_idx').on(t.tenantId, t.key),
    foreignKey({
      columns: [t.tenantId, t.clientId],
      foreignColumns: [clients.tenantId, clients.id],
    }).onDelete('cascade'),
    ...tenantPolicies('prompt_templates', t.tenantId),
  ],
).enableRLS();

/** An immutable version of a template: what it says, the variables it takes, how to call the model. */
export const promptVersions = pgTable(
  'prompt_versions',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    templateId: uuid('template_id').notNull(),
    version: integer('version').notNull(),
    /** The template text (kind `text`; empty for chat). */
    content: text('content').notNull().default(''),
    /** The message templates (kind `chat`; null for text). */
    messages: jsonb('messages').$type<ChatMessage[]>(),
    variablesSchema: jsonb('variables_schema').notNull().$type<Record<string, unknown>>(),
    modelSettings: jsonb('model_settings').notNull().default({}).$type<Record<string, unknown>>(),
    tags: text('tags').array().notNull().default([]),
    changeNote: text('change_note').notNull().default(''),
    authorType: text('author_type', { enum: ACTOR_TYPES }).notNull(),
    authorId: text('author_id').notNull(),
    /** SHA-256 of the canonical JSON of what renders (content, schema, settings): import matches on it. */
    contentHash: text('content_hash').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    unique('prompt_versions_number_key').on(t.tenantId, t.templateId, t.version),
    foreignKey({
      columns: [t.tenantId, t.templateId],
      foreignColumns: [promptTemplates.tenantId, promptTemplates.id],
    }).onDelete('cascade'),
    ...tenantPolicies('prompt_versions', t.tenantId),
  ],
).enableRLS();

/** A label of a template (`production`, `staging`, …) and the version it points at now. */
export const promptLabels = pgTable(
  'prompt_labels',
  {
    tenantId: uuid('tenant_id').notNull(),
    templateId: uuid('template_id').notNull(),
    name: text('name').notNull(),
    versionId: uuid('version_id').notNull(),
    /** Where it pointed before the last move: what a rollback returns to. */
    previousVersionId: uuid('previous_version_id'),
    movedBy: text('moved_by').notNull(),
    movedAt: timestamp('moved_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.templateId, t.name] }),
    foreignKey({
      columns: [t.tenantId, t.templateId],
      foreignColumns: [promptTemplates.tenantId, promptTemplates.id],
    }).onDelete('cascade'),
    foreignKey({
      columns: [t.tenantId, t.versionId],
      foreignColumns: [promptVersions.tenantId, promptVersions.id],
    }).onDelete('cascade'),
    foreignKey({
      columns: [t.tenantId, t.previousVersionId],
      foreignColumns: [promptVersions.tenantId, promptVersions.id],
    }).onDelete('set null'),
    ...tenantPolicies('prompt_labels', t.tenantId),
  ],
).enableRLS();

export const PROMPT_APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'superseded'] as const;
export type PromptApprovalStatus = (typeof PROMPT_APPROVAL_STATUSES)[number];

/**
 * A requested move of a protected label, waiting for a second person (tenant setting
 * `requirePromptApproval`). `to_version_id` null asks to remove the label.
 */
export const promptApprovals = pgTable(
  'prompt_approvals',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id')
      .notNull()
      .$defaultFn(() => uuidv7()),
    templateId: uuid('template_id').notNull(),
    label: text('label').notNull(),
    fromVersionId: uuid('from_version_id'),
    toVersionId: uuid('to_version_id'),
    status: text('status', { enum: PROMPT_APPROVAL_STATUSES }).notNull().default('pending'),
    requestedByType: text('requested_by_type', { enum: ACTOR_TYPES }).notNull(),
    requestedBy: text('requested_by').notNull(),
    note: text('note').notNull().default(''),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('prompt_approvals_pending_key')
      .on(t.tenantId, t.templateId, t.label)
      .where(sql`status = 'pending'`),
    index('prompt_approvals_status_idx').on(t.tenantId, t.status, t.id),
    foreignKey({
      columns: [t.tenantId, t.templateId],
      foreignColumns: [promptTemplates.tenantId, promptTemplates.id],
    }).onDelete('cascade'),
    ...tenantPolicies('prompt_approvals', t.tenantId),
  ],
).enableRLS();

/**
 * Which prompt an agent uses for a key: a label (followed as it moves) or one exact version.
 * A version an agent pins cannot be deleted with its template.
 */
export const agentPromptPins = pgTable(
  'agent_prompt_pins',
  {
    tenantId: uuid('tenant_id').notNull(),
    agentId: uuid('agent_id').notNull(),
    promptKey: text('prompt_key').notNull(),
    label: text('label'),
    versionId: uuid('version_id'),
    updatedBy: text('updated_by').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.agentId, t.promptKey] }),
    check('agent_prompt_pins_one_target', sql`(label is null) <> (version_id is null)`),
    foreignKey({
      columns: [t.tenantId, t.agentId],
      foreignColumns: [agents.tenantId, agents.id],
    }).onDelete('cascade'),
    foreignKey({
      columns: [t.tenantId, t.versionId],
      foreignColumns: [promptVersions.tenantId, promptVersions.id],
    }),
    ...tenantPolicies('agent_prompt_pins', t.tenantId),
  ],
).enableRLS();
