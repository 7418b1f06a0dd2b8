import { z } from 'zod';

const int = (min: number, max: number, fallback: number) =>
  z.coerce
    .number({ error: `expected an integer from ${min} to ${max}` })
    .int({ error: `expected an integer from ${min} to ${max}` })
    .min(min, { error: `expected an integer from ${min} to ${max}` })
    .max(max, { error: `expected an integer from ${min} to ${max}` })
    .default(fallback);

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'], { error: 'expected true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

const optionalUrl = (protocols: string[], what: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .refine(
      (v) => {
        if (v === undefined) return true;
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      { error: `expected ${what}` },
    );

/**
 * Plain http to an identity provider only on this machine (the tests' mock provider): anywhere
 * else, tokens and codes would cross the network in the clear.
 */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && ['localhost', '127.0.0.1'].includes(url.hostname);
}

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const csv = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

/**
 * Every environment variable the platform reads. Variables in SECRET_KEYS hold credentials:
 * they are validated but never printed, logged or echoed in an error.
 */
export const configSchema = z
  .object({
    NODE_ENV: z
      .enum(['development', 'test', 'production'], {
        error: 'expected development, test or production',
      })
      .default('development'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: int(0, 65535, 3000),
    DATABASE_URL: optionalUrl(['postgres:', 'postgresql:'], 'a postgres:// URL'),
    PGLITE_DATA_DIR: z.string().min(1).default('./.data/pglite'),
    DB_POOL_MAX: int(1, 500, 10),
    DB_STATEMENT_TIMEOUT_MS: int(100, 600_000, 30_000),
    DB_CONNECT_MAX_DELAY_MS: int(100, 300_000, 30_000),
    MIGRATE_ON_START: bool(true),
    REDIS_URL: optionalUrl(['redis:', 'rediss:'], 'a redis:// or rediss:// URL'),
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[a-zA-Z0-9_-]{1,64}$/, { error: 'expected 1-64 letters, digits, _ or -' })
      .default('maxai'),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'expected one of fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
    CORS_ORIGINS: csv.refine(
      (origins) =>
        origins.every((o) => {
          try {
            return new URL(o).origin === o;
          } catch {
            return false;
          }
        }),
      { error: 'expected a comma-separated list of origins like https://app.example.com' },
    ),
    TRUST_PROXY: bool(false),
    BODY_LIMIT_BYTES: int(1024, 50 * 1024 * 1024, 1024 * 1024),
    RATE_LIMIT_POINTS: int(1, 1_000_000, 600),
    RATE_LIMIT_WINDOW_S: int(1, 86_400, 60),
    SHUTDOWN_TIMEOUT_MS: int(0, 600_000, 10_000),
    JOBS_CONCURRENCY: int(1, 1000, 8),
    JOBS_POLL_INTERVAL_MS: int(10, 60_000, 500),
    JOBS_LEASE_MS: int(1000, 3_600_000, 30_000),
    JOBS_MAX_ATTEMPTS: int(1, 100, 8),
    JOBS_BACKOFF_BASE_MS: int(10, 3_600_000, 1000),
    JOBS_BACKOFF_MAX_MS: int(10, 86_400_000, 15 * 60_000),
    INTERNAL_API_TOKEN: z
      .string()
      .min(24, { error: 'expected at least 24 characters' })
      .optional()
      .or(z.literal('').transform(() => undefined)),
    MASTER_KEY: z
      .string()
      .refine((v) => Buffer.from(v, 'base64').length === 32, {
        error: 'expected 32 bytes, base64-encoded (openssl rand -base64 32)',
      })
      .optional()
      .or(z.literal('').transform(() => undefined)),
    MASTER_KEY_PREVIOUS: csv.refine(
      (keys) => keys.every((k) => Buffer.from(k, 'base64').length === 32),
      { error: 'expected comma-separated 32-byte base64 keys' },
    ),
    MASTER_KEY_FILE: z.string().min(1).default('./.data/master.key'),
    PUBLIC_URL: optionalUrl(['http:', 'https:'], 'an http(s):// URL').transform(
      (v) => v ?? 'http://localhost:3000',
    ),
    PORTAL_URL: optionalUrl(['http:', 'https:'], 'an http(s):// URL'),
    GOOGLE_OIDC_ISSUER: z
      .string()
      .default('https://accounts.google.com')
      .refine(
        (v) => {
          try {
            const url = new URL(v);
            return url.protocol === 'https:' || isLoopbackHttp(url);
          } catch {
            return false;
          }
        },
        { error: 'expected an https:// URL (http:// only on localhost or 127.0.0.1)' },
      ),
    GOOGLE_OIDC_CLIENT_ID: optionalString,
    GOOGLE_OIDC_CLIENT_SECRET: optionalString,
    EMAIL_TRANSPORT: z
      .enum(['sandbox', 'smtp'], { error: 'expected sandbox or smtp' })
      .default('sandbox'),
    SMTP_URL: optionalUrl(['smtp:', 'smtps:'], 'an smtp:// or smtps:// URL'),
    EMAIL_FROM: z.string().min(3).default('MaxAI <no-reply@maxai.local>'),
    SEED_ON_START: bool(true),
    SEED_ADMIN_EMAIL: z.email({ error: 'expected an email address' }).default('admin@maxai.local'),
    SEED_ADMIN_PASSWORD: z
      .string()
      .min(10, { error: 'expected at least 10 characters' })
      .optional()
      .or(z.literal('').transform(() => undefined)),
    ACCESS_TOKEN_TTL_S: int(60, 3600, 900),
    REFRESH_TOKEN_TTL_DAYS: int(1, 365, 30),
    AUTH_COOKIE_SECURE: bool(true),
    PRINCIPAL_CACHE_TTL_MS: int(0, 300_000, 30_000),
    MFA_ISSUER: z.string().trim().min(1).max(64).default('MaxAI'),
    /** How often the worker roles sign each tenant's new audit events (0 disables). */
    PROVIDERS: z
      .enum(['sandbox', 'live'], { error: 'expected sandbox or live' })
      .default('sandbox'),
    SIMULATORS_URL: optionalUrl(['http:', 'https:'], 'an http(s):// URL').transform(
      (v) => v ?? 'http://127.0.0.1:4010',
    ),
    SIMULATORS_EMBEDDED: bool(true),
    TOKEN_REFRESH_INTERVAL_S: int(0, 86_400, 300),
    // Defaults are the simulators' sandbox OAuth apps; live mode needs the marketplace apps.
    GHL_CLIENT_ID: z.string().min(1).default('ghl_client_sandbox'),
    GHL_CLIENT_SECRET: z.string().min(1).default('ghl_secret_sandbox'),
    GOOGLE_CLIENT_ID: z.string().min(1).default('google-client-sandbox.apps.googleusercontent.com'),
    GOOGLE_CLIENT_SECRET: z.string().min(1).default('google-secret-sandbox'),
    AUDIT_CHECKPOINT_INTERVAL_S: int(0, 604_800, 3600),
    /**
     * The base URL providers post webhooks to, as they see it (behind a proxy it is not the URL
     * we see; Twilio signs it). Defaults to PUBLIC_URL.
     */
    WEBHOOK_PUBLIC_URL: optionalUrl(['http:', 'https:'], 'an http(s):// URL'),
    WEBHOOK_BODY_LIMIT_BYTES: int(1024, 10 * 1024 * 1024, 1024 * 1024),
    /** Raw webhook bodies are purged after this many days; normalized events are kept. */
    WEBHOOK_RAW_RETENTION_DAYS: int(1, 3650, 30),
    WEBHOOK_PURGE_INTERVAL_S: int(0, 86_400, 3600),
    /** GoHighLevel's published webhook public keys (PEM); sandbox asks the simulator when unset. */
    GHL_WEBHOOK_ED25519_PUBLIC_KEY: optionalString,
    GHL_WEBHOOK_RSA_PUBLIC_KEY: optionalString,
    /** Flow runs one worker executes at once. */
    FLOW_WORKER_CONCURRENCY: int(1, 1000, 16),
    /** Flow runs of one tenant running at once, across workers (fairness). */
    FLOW_TENANT_CONCURRENCY: int(1, 1000, 4),
    /** Flow runs running at once in all. */
    FLOW_GLOBAL_CONCURRENCY: int(1, 100_000, 200),
    /** Provider calls per second per connection, shared by every flow using it (then queued). */
    FLOW_CONNECTION_RATE_PER_S: int(1, 10_000, 10),
    FLOW_POLL_INTERVAL_MS: int(10, 60_000, 100),
    FLOW_LEASE_MS: int(1000, 3_600_000, 30_000),
    /** Upper bound on a cached prompt resolution's life (moves are pushed to every replica). */
    PROMPT_CACHE_TTL_MS: int(0, 3_600_000, 300_000),
    /** Versions a prompt key may hold (0: unlimited); past it a new version is refused, never pruned. */
    PROMPT_MAX_VERSIONS: int(0, 1_000_000, 0),
    OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl(['http:', 'https:'], 'an http(s):// URL'),
    OTEL_SERVICE_NAME: z.string().min(1).default('maxai-platform'),
  })
  .superRefine((config, context) => {
    if (config.EMAIL_TRANSPORT === 'smtp' && !config.SMTP_URL) {
      context.addIssue({
        code: 'custom',
        path: ['SMTP_URL'],
        message: 'required when EMAIL_TRANSPORT=smtp',
      });
    }
    if (config.NODE_ENV === 'production' && !config.MASTER_KEY) {
      context.addIssue({ code: 'custom', path: ['MASTER_KEY'], message: 'required in production' });
    }
  });

export type AppConfig = z.infer<typeof configSchema>;

export const SECRET_KEYS = [
  'DATABASE_URL',
  'REDIS_URL',
  'INTERNAL_API_TOKEN',
  'MASTER_KEY',
  'SEED_ADMIN_PASSWORD',
  'SMTP_URL',
  'MASTER_KEY_PREVIOUS',
  'GHL_CLIENT_SECRET',
  'GOOGLE_CLIENT_SECRET',
  'GOOGLE_OIDC_CLIENT_SECRET',
] as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment. Fails with one line per offending variable, naming it and what was
 * expected — never its value, which may be a secret.
 */
export function loadConfig(env: NodeJS.ProcessEnv): AppConfig {
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  const lines = new Map<string, string>();
  for (const issue of result.error.issues) {
    const key = issue.path.join('.');
    if (!lines.has(key)) lines.set(key, `${key}: ${issue.message}`);
  }
  throw new ConfigError([...lines.values()]);
}

/** The configuration with secret values masked, for a startup log line. */
export function describeConfig(config: AppConfig): Record<string, unknown> {
  const shown: Record<string, unknown> = { ...config };
  for (const key of SECRET_KEYS) if (shown[key] !== undefined) shown[key] = '[redacted]';
  return shown;
}
