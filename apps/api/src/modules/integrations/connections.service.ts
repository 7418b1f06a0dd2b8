import { createHash, randomBytes } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import { ProviderError, type ProviderName } from '@maxai/core';
import { withSystem, withTenant, type Database, type Tx } from '@maxai/db';
import type { OAuthClientCredentials, OAuthProvider, OAuthTokens } from '@maxai/integrations';
import type { TenantSecrets } from '../../platform/crypto/envelope';
import { ProblemError } from '../../platform/errors/problem';
import type { AuditService } from '../audit/audit.service';
import type { EventsService } from '../events/events.service';
import { connectionKey, type PrincipalCache } from '../iam/principal-cache';
import { assertPermission, notFound, type Authenticated } from '../iam/auth.guard';
import type { RequestMeta } from '../iam/auth.service';
import { canSee, isAllowed, type Permission } from '../iam/permissions';
import type { ConnectionRow, ConnectionsRepository } from './connections.repository';
import { providerSpec, type ProviderSpec } from './providers';

/** An OAuth provider as the platform drives it: its endpoints and our client at it. */
export interface OAuthApp {
  provider: OAuthProvider;
  client: OAuthClientCredentials;
  /** GoHighLevel: a Location (sub-account) token from an agency's Company token. */
  locationToken?: (input: {
    companyAccessToken: string;
    companyId: string;
    locationId: string;
  }) => Promise<OAuthTokens>;
}

export interface ConnectionsOptions {
  publicUrl: string;
  portalUrl: string;
  oauth: Partial<Record<ProviderName, OAuthApp>>;
  /** Refresh an access token this long before it expires. */
  refreshLeewayMs?: number;
}

/** The decrypted credentials of a connection, for adapters and the proxy (never for responses). */
export interface LiveCredentials {
  connection: ConnectionRow;
  spec: ProviderSpec;
  secrets: Record<string, string>;
}

const STATE_TTL_MS = 10 * 60_000;

/** When to refresh an OAuth token before answering credentials. */
export interface RefreshWhen {
  /** The provider refused this token (a 401): refresh unless someone already did. */
  staleAccessToken?: string | undefined;
  /** Refresh when it expires within this long (default: the service's leeway, 60 s). */
  withinMs?: number | undefined;
}

/**
 * Connections: a tenant's (or client's) credentials at a provider. Secrets are sealed with the
 * tenant's data key the moment they arrive and opened only to make a provider call; no response,
 * log line or error carries them. OAuth connects go through a one-time, ten-minute `state` bound
 * to tenant, client and user (PKCE where the provider supports it); access tokens are refreshed
 * under a row lock so that concurrent calls, on any replica, cause exactly one refresh.
 */
export class ConnectionsService {
  /** In-process single flight: concurrent callers on this replica share one refresh. */
  private readonly refreshing = new Map<string, Promise<LiveCredentials>>();

  constructor(
    private readonly db: Database,
    private readonly repository: ConnectionsRepository,
    private readonly secrets: TenantSecrets,
    private readonly audit: AuditService,
    private readonly events: EventsService,
    private readonly options: ConnectionsOptions,
    private readonly cache?: PrincipalCache,
  ) {}

  async list(caller: Authenticated, tenantId: string): Promise<ConnectionRow[]> {
    const rows = await withTenant(this.db, tenantId, (tx) => this.repository.list(tx, tenantId));
    return rows.filter((row) => allowed(caller, 'connections:read', row));
  }

  get(caller: Authenticated, tenantId: string, id: string): Promise<ConnectionRow> {
    return withTenant(this.db, tenantId, (tx) =>
      this.load(tx, caller, tenantId, id, 'connections:read'),
    );
  }

  /** Stores API-key credentials (Twilio, Retell, Stripe, OpenRouter, n8n), sealed. */
  async createWithKey(
    caller: Authenticated,
    tenantId: string,
    input: {
      provider: string;
      name: string;
      clientId?: string | undefined;
      credentials: Record<string, unknown>;
      attributes?: Record<string, string> | undefined;
    },
    meta: RequestMeta,
  ): Promise<ConnectionRow> {
    const spec = providerSpec(input.provider);
    if (!spec) throw new ProblemError('not-found', `No provider named ${input.provider}.`);
    if (spec.authType !== 'api_key' || !spec.credentials) {
      throw new ProblemError(
        'unprocessable-content',
        `${spec.name} connects with OAuth: use POST …/connections/${spec.name}/authorize.`,
      );
    }
    assertPermission(caller, 'connections:manage', tenantId, input.clientId);
    const parsed = spec.credentials.safeParse(input.credentials);
    if (!parsed.success) {
      throw new ProblemError('validation-error', 'The credentials do not fit the provider.', {
        // Field names only: a validation message must not echo a secret back.
        errors: parsed.error.issues.map((i) => ({
          field: `body.credentials.${i.path.join('.')}`,
          message: i.message,
        })),
      });
    }
    return withTenant(this.db, tenantId, async (tx) => {
      const row = await this.store(tx, tenantId, {
        provider: spec.name,
        authType: 'api_key',
        name: input.name,
        clientId: input.clientId,
        secrets: parsed.data,
        attributes: input.attributes ?? {},
        createdBy: caller.actor.id,
      });
      await this.record(tx, caller, meta, tenantId, 'connection.created', row);
      return row;
    });
  }

  async delete(caller: Authenticated, tenantId: string, id: string, meta: RequestMeta) {
    await withTenant(this.db, tenantId, async (tx) => {
      const row = await this.load(tx, caller, tenantId, id, 'connections:manage');
      await this.repository.delete(tx, tenantId, id);
      await this.record(tx, caller, meta, tenantId, 'connection.deleted', row);
    });
    await this.changed(id);
  }

  /** Starts an OAuth connect: the provider's authorize URL with a one-time state. */
  async authorize(
    caller: Authenticated,
    tenantId: string,
    provider: string,
    input: { clientId?: string | undefined; name: string },
  ): Promise<{ authorizeUrl: string; expiresAt: string }> {
    const spec = providerSpec(provider);
    const app = spec ? this.options.oauth[spec.name] : undefined;
    if (spec?.authType !== 'oauth2' || !app) {
      throw new ProblemError('not-found', `No OAuth provider named ${provider}.`);
    }
    assertPermission(caller, 'connections:manage', tenantId, input.clientId);
    const state = randomBytes(32).toString('base64url');
    const verifier = app.provider.supportsPkce ? randomBytes(48).toString('base64url') : undefined;
    const expiresAt = new Date(Date.now() + STATE_TTL_MS);
    await withTenant(this.db, tenantId, async (tx) => {
      await this.repository.insertState(tx, {
        tenantId,
        stateHash: sha256(state),
        clientId: input.clientId ?? null,
        userId: caller.actor.id,
        provider: spec.name,
        name: input.name,
        codeVerifierSealed: verifier
          ? await this.secrets.seal(tx, tenantId, verifier, `oauth-state:${sha256(state)}`)
          : null,
        expiresAt,
      });
    });
    const authorizeUrl = app.provider.authorizeUrl({
      client: app.client,
      redirectUri: this.redirectUri(spec.name),
      state,
      scopes: [...(spec.scopes ?? [])],
      codeChallenge: verifier
        ? createHash('sha256').update(verifier).digest('base64url')
        : undefined,
    });
    return { authorizeUrl, expiresAt: expiresAt.toISOString() };
  }

  /** The provider's redirect back: spends the state, exchanges the code, stores the tokens. */
  async callback(
    provider: string,
    params: { code?: string | undefined; state?: string | undefined; error?: string | undefined },
  ): Promise<{ connection: ConnectionRow; location: string }> {
    const spec = providerSpec(provider);
    const app = spec ? this.options.oauth[spec.name] : undefined;
    if (!spec || !app) throw new ProblemError('not-found', `No OAuth provider named ${provider}.`);
    const given = params.state;
    if (!given) throw invalidCallback('The state parameter is missing.');
    const state = await withSystem(this.db, (tx) => this.repository.spendState(tx, sha256(given)));
    if (state?.provider !== spec.name) {
      throw invalidCallback('This connect link is unknown, used or expired. Start again.');
    }
    if (params.error || !params.code) {
      throw invalidCallback(`The provider refused the connection (${params.error ?? 'no code'}).`);
    }
    const tenantId = state.tenantId;
    const sealedVerifier = state.codeVerifierSealed;
    const verifier = sealedVerifier
      ? await withTenant(this.db, tenantId, (tx) =>
          this.secrets.open(tx, tenantId, sealedVerifier, `oauth-state:${state.stateHash}`),
        )
      : undefined;
    const tokens = await app.provider
      .exchangeCode({
        client: app.client,
        code: params.code,
        redirectUri: this.redirectUri(spec.name),
        codeVerifier: verifier,
      })
      .catch((error: unknown) => {
        throw invalidCallback(`The code exchange failed: ${errorText(error)}`);
      });
    const connection = await withTenant(this.db, tenantId, async (tx) => {
      const row = await this.store(tx, tenantId, {
        provider: spec.name,
        authType: 'oauth2',
        name: state.name,
        clientId: state.clientId ?? undefined,
        secrets: tokenSecrets(tokens),
        attributes: tokens.attributes,
        createdBy: state.userId,
        accessExpiresAt: tokens.expiresAt ? new Date(tokens.expiresAt) : null,
      });
      await this.audit.record(tx, {
        tenantId,
        actor: { type: 'user', id: state.userId },
        action: 'connection.created',
        target: { type: 'connection', id: row.id },
        changes: { provider: row.provider, name: row.name, clientId: row.clientId },
      });
      return row;
    });
    const portal = this.options.portalUrl.replace(/\/+$/, '');
    return { connection, location: `${portal}/connections/${connection.id}?connected=1` };
  }

  /**
   * GoHighLevel agencies connect once at Company level; each sub-account (Location) they serve
   * gets its own connection from the `/oauth/locationToken` exchange (ARCHITECTURE §5).
   */
  async connectLocation(
    caller: Authenticated,
    tenantId: string,
    companyConnectionId: string,
    input: { locationId: string; name: string; clientId?: string | undefined },
    meta: RequestMeta,
  ): Promise<ConnectionRow> {
    const source = await this.get(caller, tenantId, companyConnectionId);
    assertPermission(caller, 'connections:manage', tenantId, input.clientId);
    const exchange = this.options.oauth.gohighlevel?.locationToken;
    const companyId = source.attributes.companyId;
    if (
      source.provider !== 'gohighlevel' ||
      source.attributes.userType !== 'Company' ||
      !companyId ||
      !exchange
    ) {
      throw new ProblemError(
        'unprocessable-content',
        'Only a GoHighLevel agency (Company) connection can issue location connections.',
      );
    }
    const live = await this.credentials(tenantId, companyConnectionId);
    const tokens = await exchange({
      companyAccessToken: live.secrets.accessToken ?? '',
      companyId,
      locationId: input.locationId,
    }).catch((error: unknown) => {
      throw new ProblemError(
        'unprocessable-content',
        `GoHighLevel refused the location token: ${errorText(error)}`,
      );
    });
    return withTenant(this.db, tenantId, async (tx) => {
      const row = await this.store(tx, tenantId, {
        provider: 'gohighlevel',
        authType: 'oauth2',
        name: input.name,
        clientId: input.clientId,
        secrets: tokenSecrets(tokens),
        attributes: { ...tokens.attributes, companyConnectionId },
        createdBy: caller.actor.id,
        accessExpiresAt: tokens.expiresAt ? new Date(tokens.expiresAt) : null,
      });
      await this.record(tx, caller, meta, tenantId, 'connection.created', row);
      return row;
    });
  }

  /**
   * The credentials to call the provider with. An OAuth access token about to expire (or one the
   * provider just refused, `staleAccessToken`) is refreshed first — once, whatever the number of
   * concurrent callers and replicas.
   */
  async credentials(
    tenantId: string,
    connectionId: string,
    refresh: RefreshWhen = {},
  ): Promise<LiveCredentials> {
    const live = await this.opened(tenantId, connectionId);
    if (live.connection.status !== 'active') {
      throw new ProblemError(
        'conflict',
        `The connection needs attention (${live.connection.status}): connect it again.`,
      );
    }
    if (!this.needsRefresh(live, refresh)) return live;
    const key = `${tenantId}:${connectionId}`;
    let flight = this.refreshing.get(key);
    if (!flight) {
      flight = this.refresh(tenantId, connectionId, refresh).finally(() =>
        this.refreshing.delete(key),
      );
      this.refreshing.set(key, flight);
    }
    return flight;
  }

  private needsRefresh(live: LiveCredentials, when: RefreshWhen): boolean {
    if (live.connection.authType !== 'oauth2') return false;
    if (when.staleAccessToken !== undefined && live.secrets.accessToken === when.staleAccessToken) {
      return true;
    }
    const expiresAt = live.connection.accessExpiresAt?.getTime();
    const leeway = when.withinMs ?? this.options.refreshLeewayMs ?? 60_000;
    return expiresAt !== undefined && expiresAt - leeway <= Date.now();
  }

  private async refresh(
    tenantId: string,
    connectionId: string,
    when: RefreshWhen,
  ): Promise<LiveCredentials> {
    const outcome = await withTenant(this.db, tenantId, async (tx) => {
      // The row lock makes every other replica's refresher wait here, then see our result.
      const row = await this.repository.findForUpdate(tx, tenantId, connectionId);
      if (!row) throw notFound();
      const live = await this.open(tx, row);
      if (!this.needsRefresh(live, when)) return { live };
      const app = this.options.oauth[live.spec.name];
      const refreshToken = live.secrets.refreshToken;
      if (!app || !refreshToken) return { failed: 'no refresh token', row };
      try {
        const tokens = await app.provider.refresh({ client: app.client, refreshToken });
        // Providers with single-use refresh tokens (GoHighLevel) send a new one: keep it.
        const secrets = {
          ...tokenSecrets(tokens),
          refreshToken: tokens.refreshToken ?? refreshToken,
        };
        const patch = {
          credentialsSealed: await this.secrets.seal(tx, tenantId, JSON.stringify(secrets), row.id),
          accessExpiresAt: tokens.expiresAt ? new Date(tokens.expiresAt) : null,
          lastRefreshedAt: new Date(),
          attributes: { ...row.attributes, ...tokens.attributes },
          lastError: null,
        };
        await this.repository.update(tx, tenantId, row.id, patch);
        return { live: { ...live, secrets, connection: { ...row, ...patch } } };
      } catch (error) {
        // The provider is down or busy: the token may still be good later; try again then.
        if (error instanceof ProviderError && error.retryable) throw error;
        return { failed: errorText(error), row };
      }
    });
    await this.changed(connectionId);
    if (outcome.live) return outcome.live;
    await this.markNeedsReauth(
      tenantId,
      outcome.row,
      `token refresh failed: ${outcome.failed}`,
      'token-refresh',
    );
    throw new ProblemError('conflict', 'The provider refused the token refresh: connect again.');
  }

  /**
   * A connection with its opened credentials, whatever its status. Cached per process and
   * dropped on every replica when the connection changes (refresh, re-auth, deletion), so a
   * proxied call needs no database trip.
   */
  /**
   * The provider refused this connection's credentials (a refresh, or a call answered 401): it
   * needs the user to connect again. Audited, announced as an event, pushed to every replica.
   */
  async refused(tenantId: string, connectionId: string, reason: string, by: string) {
    const row = await withTenant(this.db, tenantId, (tx) =>
      this.repository.find(tx, tenantId, connectionId),
    );
    if (row?.status === 'active') await this.markNeedsReauth(tenantId, row, reason, by);
  }

  private async markNeedsReauth(
    tenantId: string,
    row: ConnectionRow,
    reason: string,
    by: string,
  ): Promise<void> {
    await withTenant(this.db, tenantId, async (tx) => {
      await this.repository.update(tx, tenantId, row.id, {
        status: 'needs_reauth',
        lastError: reason,
      });
      await this.audit.record(tx, {
        tenantId,
        actor: { type: 'system', id: by },
        action: 'connection.needs_reauth',
        outcome: 'failure',
        target: { type: 'connection', id: row.id },
      });
      await this.events.emit(tx, {
        tenantId,
        clientId: row.clientId,
        type: 'maxai.integrations.connection.needs_reauth',
        source: '/maxai/integrations',
        subject: `connections/${row.id}`,
        data: { connectionId: row.id, provider: row.provider, name: row.name, reason },
      });
    });
    await this.changed(row.id);
  }

  async opened(tenantId: string, connectionId: string): Promise<LiveCredentials> {
    const load = () =>
      withTenant(this.db, tenantId, async (tx) => {
        const row = await this.repository.find(tx, tenantId, connectionId);
        return row ? this.open(tx, row) : undefined;
      });
    const live = this.cache
      ? await this.cache.get(connectionKey(connectionId), load)
      : await load();
    // The cache is keyed by connection id: a connection of another tenant is not this one.
    if (live?.connection.tenantId !== tenantId) throw notFound();
    return live;
  }

  /** Tells every replica this connection's cached credentials are stale. */
  private async changed(connectionId: string): Promise<void> {
    await this.cache?.invalidate({ connections: [connectionId] });
  }

  private async open(tx: Tx, row: ConnectionRow): Promise<LiveCredentials> {
    const spec = providerSpec(row.provider);
    if (!spec) throw new Error(`connection ${row.id} names an unknown provider`);
    const plain = await this.secrets.open(tx, row.tenantId, row.credentialsSealed, row.id);
    return { connection: row, spec, secrets: JSON.parse(plain) as Record<string, string> };
  }

  private async store(
    tx: Tx,
    tenantId: string,
    input: {
      provider: ProviderName;
      authType: 'oauth2' | 'api_key';
      name: string;
      clientId?: string | undefined;
      secrets: Record<string, string>;
      attributes: Record<string, string>;
      createdBy: string;
      accessExpiresAt?: Date | null;
    },
  ): Promise<ConnectionRow> {
    const id = uuidv7();
    return this.repository.insert(tx, {
      tenantId,
      id,
      clientId: input.clientId ?? null,
      provider: input.provider,
      authType: input.authType,
      name: input.name,
      credentialsSealed: await this.secrets.seal(tx, tenantId, JSON.stringify(input.secrets), id),
      attributes: input.attributes,
      accessExpiresAt: input.accessExpiresAt ?? null,
      createdBy: input.createdBy,
    });
  }

  private async load(
    tx: Tx,
    caller: Authenticated,
    tenantId: string,
    id: string,
    permission: Permission,
  ): Promise<ConnectionRow> {
    const row = await this.repository.find(tx, tenantId, id);
    if (!row || !canSee(caller.principal, tenantId, row.clientId ?? undefined)) throw notFound();
    if (!allowed(caller, permission, row)) {
      throw new ProblemError('forbidden', `This action needs the ${permission} permission.`);
    }
    return row;
  }

  private record(
    tx: Tx,
    caller: Authenticated,
    meta: RequestMeta,
    tenantId: string,
    action: string,
    row: ConnectionRow,
  ) {
    return this.audit.record(tx, {
      tenantId,
      actor: { type: caller.actor.type, id: caller.actor.id },
      action,
      target: { type: 'connection', id: row.id },
      changes: { provider: row.provider, name: row.name, clientId: row.clientId },
      ...meta,
    });
  }

  private redirectUri(provider: ProviderName): string {
    return `${this.options.publicUrl.replace(/\/+$/, '')}/v1/oauth/callback/${provider}`;
  }
}

function allowed(caller: Authenticated, permission: Permission, row: ConnectionRow): boolean {
  return isAllowed(caller.principal, permission, {
    tenantId: row.tenantId,
    clientId: row.clientId ?? undefined,
  });
}

function tokenSecrets(tokens: OAuthTokens): Record<string, string> {
  return {
    accessToken: tokens.accessToken,
    ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
  };
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

function invalidCallback(detail: string): ProblemError {
  return new ProblemError('validation-error', detail);
}

/** An error's message, never its cause chain (which may hold a provider's response). */
function errorText(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 200) : 'unknown error';
}
