import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Redis } from 'ioredis';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import { ZodValidationPipe } from 'nestjs-zod';
import type { Logger } from 'pino';
import type { Role } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import { ProblemFilter } from '../errors/problem.filter';
import fastifyCookie from '@fastify/cookie';
import { configureHttpPipeline } from '../http/http-pipeline';
import { resolveCorrelationId } from '../http/request-context';
import { ROOT_LOGGER } from '../logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';
import { registerDocsUi } from '../openapi/docs-ui';
import { buildOpenApiDocument } from '../openapi/openapi';
import { REDIS } from '../redis/redis.module';
import { AppModule } from './app.module';
import { registerWebhookIngress } from '../../modules/webhooks/webhook-ingress.route';
import { WebhookIngressService } from '../../modules/webhooks/webhook-ingress.service';

type CorrelatedRequest = IncomingMessage & { correlationId?: string };

/** Builds (but does not start listening) the application for a role. */
export async function createApp(role: Role, config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    // While closing: new requests get 503 and idle keep-alive sockets are closed at once.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    genReqId: (req: CorrelatedRequest) => {
      req.correlationId = resolveCorrelationId(req.headers);
      return req.correlationId;
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRole(role, config),
    adapter,
    {
      bufferLogs: true,
      abortOnError: false,
    },
  );
  app.useLogger(app.get(NestPinoLogger));
  const logger = app.get<Logger>(ROOT_LOGGER);
  app.useGlobalFilters(new ProblemFilter(logger));
  app.useGlobalPipes(new ZodValidationPipe());
  await app.register(fastifyCookie);
  configureHttpPipeline(app, {
    config,
    logger,
    metrics: app.get(MetricsService),
    redis: app.get<Redis | null>(REDIS),
  });
  if (role !== 'worker') {
    const document = buildOpenApiDocument(app);
    const fastify = app.getHttpAdapter().getInstance();
    registerWebhookIngress(fastify, app.get(WebhookIngressService), {
      bodyLimit: config.WEBHOOK_BODY_LIMIT_BYTES,
      logger,
    });
    fastify.get('/openapi.json', (_request, reply) => reply.send(document));
    registerDocsUi(fastify);
  }
  await app.init();
  return app;
}
