import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { sendProblem } from '../../platform/errors/problem-responder';
import type { WebhookIngressService } from './webhook-ingress.service';

interface IngressParams {
  provider: string;
  endpointId: string;
}

/**
 * `POST /webhooks/{provider}/{endpointId}` as a plain Fastify route in its own encapsulated
 * scope: every body arrives as the exact bytes (no JSON or form parsing — a signature covers the
 * bytes, and a signed but unparseable body must still be stored), under its own size limit.
 */
export function registerWebhookIngress(
  fastify: FastifyInstance,
  ingress: WebhookIngressService,
  options: { bodyLimit: number; logger: Logger },
): void {
  void fastify.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: options.bodyLimit },
      (_request, body, next) => {
        next(null, body);
      },
    );
    scope.setErrorHandler((error, request, reply) =>
      sendProblem(request, reply, error, options.logger),
    );
    scope.post<{ Params: IngressParams }>(
      '/webhooks/:provider/:endpointId',
      { bodyLimit: options.bodyLimit },
      async (request: FastifyRequest<{ Params: IngressParams }>, reply) => {
        const ack = await ingress.receive({
          provider: request.params.provider,
          endpointId: request.params.endpointId,
          url: request.url,
          headers: flatHeaders(request.headers),
          rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
          ip: request.ip,
        });
        reply.code(ack.status);
        if (ack.contentType) reply.type(ack.contentType);
        return reply.send(ack.body);
      },
    );
    done();
  });
}

function flatHeaders(headers: FastifyRequest['headers']): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
