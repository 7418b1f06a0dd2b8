import type { Logger } from 'pino';
import { ProblemError } from '../../platform/errors/problem';
import type { Authenticated } from '../iam/auth.guard';
import { notFound } from '../iam/auth.guard';
import { canSee, isAllowed } from '../iam/permissions';
import type { ConnectionsService, LiveCredentials } from './connections.service';
import { NEVER_FORWARDED, proxyTarget } from './proxy-target';
import { baseUrlOf } from './providers';

export interface ProxyRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body?: string | Buffer | undefined;
}

export interface ProxyResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * The OAuth proxy: forwards a call to the connection's provider with the stored credentials
 * injected server-side (the caller never sees them), only under the provider's API root. A 401
 * from an OAuth provider refreshes the token once and retries.
 */
export class ProxyService {
  constructor(
    private readonly connections: ConnectionsService,
    private readonly mode: { providers: 'sandbox' | 'live'; simulatorsUrl: string },
    private readonly logger: Logger,
    private readonly timeoutMs = 30_000,
  ) {}

  async forward(
    caller: Authenticated,
    tenantId: string,
    connectionId: string,
    request: ProxyRequest,
  ): Promise<ProxyResponse> {
    // What the caller cannot see does not exist (404); what it sees without `use` is 403.
    const { connection: row } = await this.connections.opened(tenantId, connectionId);
    const scope = { tenantId, clientId: row.clientId ?? undefined };
    if (!canSee(caller.principal, tenantId, scope.clientId)) throw notFound();
    if (!isAllowed(caller.principal, 'connections:use', scope)) {
      throw new ProblemError('forbidden', 'This action needs the connections:use permission.');
    }
    let live = await this.connections.credentials(tenantId, connectionId);
    const started = performance.now();
    let response = await this.send(live, request);
    if (response.status === 401 && live.connection.authType === 'oauth2') {
      live = await this.connections.credentials(tenantId, connectionId, {
        staleAccessToken: live.secrets.accessToken,
      });
      response = await this.send(live, request);
    }
    this.logger.info(
      {
        tenantId,
        clientId: row.clientId,
        connectionId,
        provider: row.provider,
        method: request.method,
        path: request.path,
        status: response.status,
        latencyMs: Math.round(performance.now() - started),
      },
      'proxied provider call',
    );
    return response;
  }

  private async send(live: LiveCredentials, request: ProxyRequest): Promise<ProxyResponse> {
    const base = baseUrlOf(live.spec, this.mode, live.connection.attributes);
    const target = base ? proxyTarget(base, request.path, request.query) : undefined;
    if (!target) {
      throw new ProblemError('validation-error', 'The path leaves the provider API root.', {
        errors: [{ field: 'path', message: 'must be a relative path under the API root' }],
      });
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || NEVER_FORWARDED.has(name.toLowerCase())) continue;
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    Object.assign(headers, live.spec.fixedHeaders, live.spec.authHeaders(live.secrets));
    let res: Response;
    try {
      res = await fetch(target, {
        method: request.method,
        headers,
        body: ['GET', 'HEAD'].includes(request.method) ? undefined : request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch {
      throw new ProblemError('service-unavailable', `${live.spec.name} could not be reached.`);
    }
    const out: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      if (!NEVER_FORWARDED.has(name) && name !== 'content-encoding') out[name] = value;
    });
    return { status: res.status, headers: out, body: Buffer.from(await res.arrayBuffer()) };
  }
}
