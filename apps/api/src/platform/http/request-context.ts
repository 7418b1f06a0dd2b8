import { AsyncLocalStorage } from 'node:async_hooks';
import { uuidv7 } from 'uuidv7';

export interface RequestContext {
  correlationId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const requestContext = {
  /** Binds the context to the rest of the current asynchronous flow (a request's lifecycle). */
  enter(context: RequestContext): void {
    storage.enterWith(context);
  },
  run<T>(context: RequestContext, fn: () => T): T {
    return storage.run(context, fn);
  },
  current(): RequestContext | undefined {
    return storage.getStore();
  },
  /** The correlation id of the current request or job, or a fresh one outside of any. */
  correlationId(): string {
    return storage.getStore()?.correlationId ?? uuidv7();
  },
};

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// W3C Trace Context: version-traceid-parentid-flags, all lowercase hex, ids not all zero.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function parseTraceparent(value: unknown): { traceId: string; spanId: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const [, version, traceId, spanId] = TRACEPARENT.exec(value.trim()) ?? [];
  if (!traceId || !spanId || version === 'ff') return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId };
}

/**
 * The correlation id of an incoming request: the caller's `x-correlation-id` when it is safe to
 * echo into logs and headers, else the trace id of a valid `traceparent`, else a new UUID v7.
 */
export function resolveCorrelationId(
  headers: Record<string, string | string[] | undefined>,
): string {
  const given = headers['x-correlation-id'];
  if (typeof given === 'string' && CORRELATION_ID.test(given)) return given;
  const trace = parseTraceparent(headers.traceparent);
  if (trace) return trace.traceId;
  return uuidv7();
}
