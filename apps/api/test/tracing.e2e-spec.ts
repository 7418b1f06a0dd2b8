import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTracing } from '../src/platform/tracing/tracing';
import type { TestApp } from './support/test-app';

const exporter = new InMemorySpanExporter();
let sdk: NodeSDK;
let t: TestApp;

beforeAll(async () => {
  // Instrumentation first, then the application (and with it http, pg and ioredis).
  sdk = startTracing({ serviceName: 'maxai-test', exporter });
  const { startTestApp } = await import('./support/test-app.js');
  t = await startTestApp('api');
  await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await t.close();
  await sdk.shutdown();
});

it('yields a server span carrying the correlation id', async () => {
  const address = t.app.getHttpServer().address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${address.port}/internal/jobs`, {
    headers: { 'x-correlation-id': 'trace-me-42' },
  });
  expect(res.headers.get('x-correlation-id')).toBe('trace-me-42');
  const traceparent = res.headers.get('traceparent');
  expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);

  const server = exporter
    .getFinishedSpans()
    .find((s) => s.attributes['maxai.correlation_id'] === 'trace-me-42');
  expect(server).toBeDefined();
  expect(server!.kind).toBe(1); // SpanKind.SERVER
  expect(traceparent).toContain(server!.spanContext().traceId);
});
