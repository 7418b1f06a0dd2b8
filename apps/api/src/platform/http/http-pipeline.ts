import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { trace } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/config.schema';
import type { MetricsService } from '../metrics/metrics.service';
import { createRateLimiter, rateLimitHook } from './rate-limit';
import { parseTraceparent, requestContext } from './request-context';
import { computeSecurityHeaders } from './security-headers';
import { registerYamlBodyParser } from './yaml-body';

/** Probes and scrapes stay out of the access log. */
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

export interface HttpPipelineDeps {
  config: AppConfig;
  logger: Logger;
  metrics: MetricsService;
  redis: Redis | null;
}

/**
 * The cross-cutting HTTP behaviour every route shares: security headers, CORS allowlist,
 * correlation ids, rate limits and metrics. (Errors raised before a handler — body parsing,
 * limits, content types — reach Nest's exception filters, hence the ProblemFilter.)
 */
export function configureHttpPipeline(
  app: NestFastifyApplication,
  { config, logger, metrics, redis }: HttpPipelineDeps,
): void {
  const fastify = app.getHttpAdapter().getInstance();

  registerYamlBodyParser(fastify);

  const securityHeaders = computeSecurityHeaders();
  fastify.addHook('onRequest', async (_request: FastifyRequest, reply: FastifyReply) => {
    reply.headers(securityHeaders);
  });

  const allowed = new Set(config.CORS_ORIGINS);
  app.enableCors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    exposedHeaders: ['x-correlation-id', 'traceparent', 'retry-after', 'ratelimit-remaining'],
    maxAge: 600,
  });

  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    requestContext.enter({ correlationId: request.id });
    reply.header('x-correlation-id', request.id);
    const span = trace.getActiveSpan();
    if (span) {
      span.setAttribute('maxai.correlation_id', request.id);
      const { traceId, spanId, traceFlags } = span.spanContext();
      reply.header('traceparent', `00-${traceId}-${spanId}-0${traceFlags & 1}`);
    } else if (parseTraceparent(request.headers.traceparent)) {
      reply.header('traceparent', request.headers.traceparent);
    }
  });

  fastify.addHook(
    'onRequest',
    rateLimitHook(
      createRateLimiter(
        {
          points: config.RATE_LIMIT_POINTS,
          windowSeconds: config.RATE_LIMIT_WINDOW_S,
          keyPrefix: config.REDIS_KEY_PREFIX,
        },
        redis,
      ),
    ),
  );

  const accessLog = logger.child({ component: 'http' });
  fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    // The route template, never the raw URL: ids in paths would explode the label set.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    if (QUIET_ROUTES.has(route)) return;
    const entry = {
      correlationId: request.id,
      method: request.method,
      route,
      path: request.url.split('?')[0],
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (reply.statusCode >= 500) accessLog.error(entry, 'request failed');
    else accessLog.info(entry, 'request completed');
  });
}
