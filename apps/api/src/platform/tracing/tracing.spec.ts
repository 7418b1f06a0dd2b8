import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { startTracing } from './tracing';

describe('startTracing', () => {
  it('starts with an OTLP exporter when an endpoint is configured', async () => {
    const sdk = startTracing({ serviceName: 'maxai-test', otlpEndpoint: 'http://127.0.0.1:1/' });
    // A recording tracer is installed (nothing is ended, so shutdown exports nothing).
    const span = trace.getTracer('test').startSpan('unit');
    expect(span.isRecording()).toBe(true);
    expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    await sdk.shutdown();
  });

  it('starts without exporting when nothing is configured', async () => {
    const sdk = startTracing({ serviceName: 'maxai-test' });
    await expect(sdk.shutdown()).resolves.toBeUndefined();
  });
});
