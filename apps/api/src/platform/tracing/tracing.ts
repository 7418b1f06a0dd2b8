import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

/** Probes and scrapes would drown the traces that matter. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export interface TracingOptions {
  serviceName: string;
  /** OTLP/HTTP collector base URL; without it (and without `exporter`) spans are not exported. */
  otlpEndpoint?: string | undefined;
  /** An explicit exporter (tests use an in-memory one); exported span by span. */
  exporter?: SpanExporter;
}

/**
 * Starts OpenTelemetry with HTTP, pg and ioredis instrumentation. Must run before those modules
 * are loaded, which is why the entry points import `tracing/register` first.
 */
export function startTracing(options: TracingOptions): NodeSDK {
  const spanProcessors = options.exporter
    ? [new SimpleSpanProcessor(options.exporter)]
    : options.otlpEndpoint
      ? [
          new BatchSpanProcessor(
            new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces` }),
          ),
        ]
      : [];
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    spanProcessors,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has(String(req.url)),
      }),
      new PgInstrumentation(),
      new IORedisInstrumentation(),
    ],
  });
  sdk.start();
  return sdk;
}
