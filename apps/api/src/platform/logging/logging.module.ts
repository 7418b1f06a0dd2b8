import { Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { type Logger } from 'pino';
import type { IncomingMessage } from 'node:http';
import { CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import { resolveCorrelationId } from '../http/request-context';
import { maskCardNumbers, maskCardNumbersDeep, REDACT_PATHS } from './redaction';

export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** The process's one pino logger: JSON, secrets redacted, card-like numbers masked. */
export function createRootLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'maxai-platform' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { log: (object) => maskCardNumbersDeep(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? maskCardNumbers(a) : a));
          method.apply(this, masked as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

@Global()
@Module({
  providers: [
    {
      provide: ROOT_LOGGER,
      inject: [CONFIG],
      useFactory: (config: AppConfig) => createRootLogger(config.LOG_LEVEL),
    },
  ],
  exports: [ROOT_LOGGER],
})
export class RootLoggerModule {}

type CorrelatedRequest = IncomingMessage & { correlationId?: string };

@Global()
@Module({
  imports: [
    LoggerModule.forRootAsync({
      imports: [RootLoggerModule],
      inject: [ROOT_LOGGER],
      useFactory: (logger: Logger) => ({
        pinoHttp: {
          logger,
          genReqId: (req: CorrelatedRequest) =>
            req.correlationId ?? resolveCorrelationId(req.headers),
          customAttributeKeys: { reqId: 'correlationId' },
          // The access log is written by the HTTP pipeline, which knows the route template.
          autoLogging: false,
          quietReqLogger: true,
        },
      }),
    }),
  ],
})
export class LoggingModule {}
