import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import type { Role } from '../config/config.module';
import { ConfigError, describeConfig, loadConfig, type AppConfig } from '../config/config.schema';
import { ROOT_LOGGER } from '../logging/logging.module';
import type { JobStack } from '../queue/job-stack';
import { JOB_STACK } from '../queue/queue.tokens';
import { createApp } from './create-app';

/** Validates the environment or exits 1 with one line per offending variable. */
export function configOrExit(env: NodeJS.ProcessEnv): AppConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    // loadConfig throws nothing but ConfigError: one line per offending variable.
    process.stderr.write(`${(error as ConfigError).message}\n`);
    return process.exit(1);
  }
}

/**
 * On SIGTERM/SIGINT: stop accepting connections and, at the same time, let in-flight requests
 * and jobs finish (bounded by SHUTDOWN_TIMEOUT_MS); then close pools and exit 0. Exits 1 if the
 * shutdown itself hangs past the grace period.
 */
export function installGracefulShutdown(app: NestFastifyApplication, config: AppConfig): void {
  const logger = app.get<Logger>(ROOT_LOGGER);
  const jobs = app.get<JobStack>(JOB_STACK);
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining requests and jobs');
    const deadline = setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + 5000);
    deadline.unref();
    try {
      await Promise.all([
        app.getHttpAdapter().close(),
        jobs.transport.stop(config.SHUTDOWN_TIMEOUT_MS),
      ]);
      await app.close();
      logger.info('shutdown complete');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  // A rejection nobody awaited is a bug to log, not a reason to drop every in-flight request
  // and job (BullMQ can emit them while closing against an unreachable Redis).
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled promise rejection');
  });
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));
}

/** Starts a role: validate config, build, listen, print where, and shut down gracefully. */
export async function run(role: Role): Promise<NestFastifyApplication> {
  const config = configOrExit(process.env);
  const app = await createApp(role, config);
  const logger = app.get<Logger>(ROOT_LOGGER);
  installGracefulShutdown(app, config);
  await app.listen({ port: config.PORT, host: config.HOST });
  const { port } = app.getHttpServer().address() as AddressInfo;
  const host = ['0.0.0.0', '::'].includes(config.HOST) ? 'localhost' : config.HOST;
  logger.info({ role, config: describeConfig(config) }, 'configuration');
  process.stdout.write(`MaxAI Platform (${role}) listening on http://${host}:${port}\n`);
  return app;
}

export function runOrExit(role: Role): void {
  run(role).catch((error: unknown) => {
    process.stderr.write(`failed to start: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
