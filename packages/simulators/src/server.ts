import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { FaultBook, type Fault } from './faults';
import { WebhookSender } from './webhooks';

/** What every vendor simulator gets: its fault book, the webhook sender and the clock. */
export interface SimulatorContext {
  faults: FaultBook;
  /** Every API request received, newest last (bounded): what the provider saw. */
  journal: JournalEntry[];
  webhooks: WebhookSender;
  /** Where the platform is, for vendors that call back. */
  publicUrl: string;
}

export interface JournalEntry {
  vendor: string;
  method: string;
  path: string;
  at: string;
  /** The request body as the vendor parsed it (form fields, JSON), so tests see what was sent. */
  body?: unknown;
}

const JOURNAL_LIMIT = 10_000;

/**
 * A vendor simulator: a Fastify plugin mounted under `/<prefix>` for the provider's API, and
 * (optionally) under `/_control/<prefix>` for the scenario API tests script it with.
 */
export interface VendorSimulator {
  prefix: string;
  /** Renders an injected failure the way this provider shapes its errors. */
  errorBody(status: number, message: string): unknown;
  api(app: FastifyInstance, context: SimulatorContext): Promise<void>;
  control?(app: FastifyInstance, context: SimulatorContext): Promise<void>;
  reset(): void;
}

export interface SimulatorServerOptions {
  vendors: VendorSimulator[];
  publicUrl?: string;
  logger?: boolean;
}

export interface SimulatorServer {
  app: FastifyInstance;
  context: SimulatorContext;
  /** Listens on 127.0.0.1 (port 0: any free one); answers the base URL. */
  listen(port?: number): Promise<string>;
  close(): Promise<void>;
}

/**
 * One local server standing in for every provider (ARCHITECTURE.md §5): each vendor under its
 * prefix, faults injected before the vendor's handler runs, and a control API:
 * `POST /_control/faults`, `GET /_control/faults`, `POST /_control/reset`,
 * `GET /_control/webhooks` (what was sent), plus each vendor's own scenario routes.
 */
export async function createSimulatorServer(
  options: SimulatorServerOptions,
): Promise<SimulatorServer> {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 5 * 1024 * 1024 });
  // Twilio and Stripe speak form encoding.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, parseForm(body as string));
    },
  );
  const context: SimulatorContext = {
    faults: new FaultBook(),
    journal: [],
    webhooks: new WebhookSender(),
    publicUrl: options.publicUrl ?? 'http://127.0.0.1:3000',
  };

  const journalEntries = new WeakMap<FastifyRequest, JournalEntry>();
  for (const vendor of options.vendors) {
    await app.register(
      async (scope) => {
        scope.addHook('onRequest', (request: FastifyRequest, _reply, done) => {
          const path = request.url.slice(vendor.prefix.length + 1).split('?')[0] ?? '';
          const entry: JournalEntry = {
            vendor: vendor.prefix,
            method: request.method,
            path,
            at: new Date().toISOString(),
          };
          journalEntries.set(request, entry);
          context.journal.push(entry);
          if (context.journal.length > JOURNAL_LIMIT) context.journal.shift();
          done();
        });
        // Faults apply once the body is read, so the journal shows what a held or refused request
        // carried (a test waiting for a request by its body sees it while it is held).
        scope.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
          const entry = journalEntries.get(request);
          if (entry && request.body !== undefined) entry.body = request.body;
          const fault = context.faults.take(vendor.prefix, request.method, request.url);
          if (!fault) return;
          if (fault.latencyMs) await new Promise((r) => setTimeout(r, fault.latencyMs));
          if (fault.status !== undefined) {
            if (fault.retryAfterS !== undefined) {
              reply.header('retry-after', String(fault.retryAfterS));
            }
            return reply.code(fault.status).send(vendor.errorBody(fault.status, 'injected fault'));
          }
        });
        await vendor.api(scope, context);
      },
      { prefix: `/${vendor.prefix}` },
    );
    const control = vendor.control?.bind(vendor);
    if (control) {
      await app.register((scope) => control(scope, context), {
        prefix: `/_control/${vendor.prefix}`,
      });
    }
  }

  app.post<{ Body: Omit<Fault, 'id'> }>('/_control/faults', async (request, reply) => {
    return reply.code(201).send(context.faults.add(request.body));
  });
  app.get('/_control/faults', () => context.faults.list());
  app.get('/_control/webhooks', () => context.webhooks.sent);
  app.get('/_control/requests', () => context.journal);
  app.post('/_control/reset', () => {
    context.faults.clear();
    context.webhooks.sent.length = 0;
    context.journal.length = 0;
    for (const vendor of options.vendors) vendor.reset();
    return { reset: true };
  });

  return {
    app,
    context,
    async listen(port = 0) {
      await app.listen({ port, host: '127.0.0.1' });
      const { port: bound } = app.server.address() as AddressInfo;
      return `http://127.0.0.1:${String(bound)}`;
    },
    close: async () => {
      // Sockets a timed-out client left open would otherwise hold close() up.
      app.server.closeAllConnections();
      await app.close();
    },
  };
}

/** `a=1&b=2&b=3` → `{ a: '1', b: ['2', '3'] }` (repeated keys become arrays, as Twilio sends). */
export function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const existing = out[key];
    if (existing === undefined) out[key] = value;
    else out[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return out;
}
