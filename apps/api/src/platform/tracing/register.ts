import { startTracing } from './tracing';

/**
 * Imported first by every entry point so that instrumentation hooks are in place before http,
 * pg and ioredis load. Reads the two variables it needs directly: the full configuration is
 * validated (and reported) a moment later by the application itself.
 */
if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
  const sdk = startTracing({
    serviceName: process.env.OTEL_SERVICE_NAME ?? 'maxai-platform',
    otlpEndpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  process.once('beforeExit', () => void sdk.shutdown());
}
