import { Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino, { type Logger } from 'pino';
import { CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config.schema';
import { requestContext } from '../http/request-context';
import { maskCardNumbers, maskCardNumbersDeep, REDACT_PATHS } from './redaction';

export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** The process's one pino logger: JSON, secrets redacted, card-like numbers masked. */
export function createRootLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'maxai-platform' },
      // Every line written while serving a request or running a job carries its correlation id.
      mixin: () => {
        const context = requestContext.current();
        return context ? { correlationId: context.correlationId } : {};
      },
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

/**
 * nestjs-pino routes Nest's own logging into the root logger. Its per-request pino-http
 * middleware is not mounted (`forRoutes: []`): it cost ~2/3 of a trivial request's time (a
 * redacting child logger per request). Log lines get the correlation id from the request
 * context instead (the root logger's mixin), and the access log comes from the HTTP pipeline.
 */
@Global()
@Module({
  imports: [
    LoggerModule.forRootAsync({
      imports: [RootLoggerModule],
      inject: [ROOT_LOGGER],
      useFactory: (logger: Logger) => ({ pinoHttp: { logger }, forRoutes: [] }),
    }),
  ],
})
export class LoggingModule {}
