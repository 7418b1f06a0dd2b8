import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PROBLEM_BASE, PROBLEM_TYPES, ProblemError, problemDocument } from './problem';
import { sendProblem } from './problem-responder';

interface CapturedLogs {
  lines: Record<string, unknown>[];
  logger: pino.Logger;
}

function capturingLogger(): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) {
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

describe('sendProblem', () => {
  let app: FastifyInstance | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function appThrowing(error: unknown, logs: CapturedLogs): Promise<FastifyInstance> {
    let next = 0;
    const instance = Fastify({ logger: false, genReqId: () => `corr-${++next}` });
    instance.get('/things/:id', (request, reply) =>
      sendProblem(request, reply, error, logs.logger),
    );
    await instance.ready();
    return instance;
  }

  it('answers a ProblemError as problem+json with its headers and extensions, logging nothing', async () => {
    const logs = capturingLogger();
    const error = new ProblemError(
      'rate-limited',
      'Slow down.',
      { retryAfterSeconds: 7 },
      { 'retry-after': '7', 'x-ratelimit-remaining': '0' },
    );
    app = await appThrowing(error, logs);

    const response = await app.inject({ method: 'GET', url: '/things/1?page=2&secret=x' });

    expect(response.statusCode).toBe(429);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['retry-after']).toBe('7');
    expect(response.headers['x-ratelimit-remaining']).toBe('0');
    expect(response.json()).toEqual({
      type: `${PROBLEM_BASE}rate-limited`,
      title: PROBLEM_TYPES['rate-limited'].title,
      status: 429,
      detail: 'Slow down.',
      instance: '/things/1',
      correlationId: 'corr-1',
      retryAfterSeconds: 7,
    });
    expect(logs.lines).toEqual([]);
  });

  it('answers a client error without headers of its own and does not log it', async () => {
    const logs = capturingLogger();
    app = await appThrowing(new SyntaxError('Unexpected token'), logs);

    const response = await app.inject({ method: 'GET', url: '/things/abc' });

    expect(response.statusCode).toBe(400);
    expect(response.headers['retry-after']).toBeUndefined();
    expect(response.json()).toEqual({
      type: `${PROBLEM_BASE}malformed-request`,
      title: PROBLEM_TYPES['malformed-request'].title,
      status: 400,
      detail: 'The body is not valid JSON.',
      instance: '/things/abc',
      correlationId: 'corr-1',
    });
    expect(logs.lines).toEqual([]);
  });

  it('logs an unexpected error with its stack and answers a generic 500 without internals', async () => {
    const logs = capturingLogger();
    const error = new Error('connection string postgres://u:hunter2@db leaked');
    app = await appThrowing(error, logs);

    const response = await app.inject({ method: 'GET', url: '/things/9?x=1' });

    expect(response.statusCode).toBe(500);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = response.json<Record<string, unknown>>();
    expect(body).toEqual({
      type: `${PROBLEM_BASE}internal-error`,
      title: 'Internal server error',
      status: 500,
      instance: '/things/9',
      correlationId: 'corr-1',
    });
    expect(body).not.toHaveProperty('detail');
    expect(response.body).not.toContain('hunter2');

    expect(logs.lines).toHaveLength(1);
    const line = logs.lines[0]!;
    expect(line.level).toBe(50);
    expect(line.msg).toBe('unhandled error while serving a request');
    expect(line.correlationId).toBe('corr-1');
    const err = line.err as { type: string; message: string; stack: string };
    expect(err.type).toBe('Error');
    expect(err.message).toBe(error.message);
    expect(err.stack).toContain('problem-responder.spec.ts');
  });

  it('logs a non-Error thrown value as unexpected too', async () => {
    const logs = capturingLogger();
    app = await appThrowing('just a string', logs);

    const response = await app.inject({ method: 'GET', url: '/things/2' });

    expect(response.statusCode).toBe(500);
    expect(logs.lines).toHaveLength(1);
    expect(logs.lines[0]!.err).toBe('just a string');
    expect(logs.lines[0]!.correlationId).toBe('corr-1');
  });
});

describe('ProblemError', () => {
  it("defaults its message to the type's title and has empty extensions and headers", () => {
    const error = new ProblemError('forbidden');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ProblemError');
    expect(error.message).toBe('You may not perform this action');
    expect(error.status).toBe(403);
    expect(error.problemType).toBe('forbidden');
    expect(error.extensions).toEqual({});
    expect(error.headers).toEqual({});
  });

  it('keeps a given detail, extensions and headers', () => {
    const error = new ProblemError('conflict', 'Slot taken.', { slot: 'a' }, { etag: '"1"' });
    expect(error.message).toBe('Slot taken.');
    expect(error.status).toBe(409);
    expect(error.extensions).toEqual({ slot: 'a' });
    expect(error.headers).toEqual({ etag: '"1"' });
  });

  it.each(Object.entries(PROBLEM_TYPES))('takes the status of %s from its type', (type, spec) => {
    expect(new ProblemError(type as keyof typeof PROBLEM_TYPES).status).toBe(spec.status);
  });
});

describe('problemDocument', () => {
  it('builds the type URI, title and status from the problem type', () => {
    expect(problemDocument('service-unavailable', {})).toEqual({
      type: 'https://docs.maxai.dev/problems/service-unavailable',
      title: 'Service unavailable',
      status: 503,
    });
  });

  it('adds detail, instance, correlation id and extensions', () => {
    expect(
      problemDocument('validation-error', {
        detail: 'One or more fields are invalid.',
        instance: '/contacts',
        correlationId: 'abc',
        errors: [{ field: 'body.email', message: 'Invalid email' }],
      }),
    ).toEqual({
      type: `${PROBLEM_BASE}validation-error`,
      title: 'Your request parameters did not validate',
      status: 400,
      detail: 'One or more fields are invalid.',
      instance: '/contacts',
      correlationId: 'abc',
      errors: [{ field: 'body.email', message: 'Invalid email' }],
    });
  });
});
