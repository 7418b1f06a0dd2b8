import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSimulatorServer,
  parseForm,
  type SimulatorServer,
  type VendorSimulator,
} from '../src/server';
import { FaultBook } from '../src/faults';
import { WebhookSender } from '../src/webhooks';

/** A minimal vendor: an echo route, a counter in state, a control route sending a webhook. */
function echoVendor(): VendorSimulator {
  let calls = 0;
  return {
    prefix: 'echo',
    errorBody: (status, message) => ({ error: { status, message } }),
    api(app) {
      app.all('/*', (request) => {
        calls += 1;
        return { calls, method: request.method, body: request.body };
      });
      return Promise.resolve();
    },
    control(app, context) {
      app.post<{ Body: { url: string } }>('/ping', async (request) =>
        context.webhooks.send('echo', request.body.url, '{"event":"ping"}', {
          'content-type': 'application/json',
        }),
      );
      return Promise.resolve();
    },
    reset() {
      calls = 0;
    },
  };
}

let sim: SimulatorServer;
let url: string;
let receiver: Server;
let receiverUrl: string;
const received: string[] = [];

beforeAll(async () => {
  sim = await createSimulatorServer({ vendors: [echoVendor()] });
  url = await sim.listen();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(body);
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await sim.close();
  receiver.close();
});

const call = (path: string, init?: RequestInit) => fetch(`${url}${path}`, init);

describe('the simulator server', () => {
  it('mounts a vendor under its prefix and parses form bodies', async () => {
    const res = await call('/echo/things', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1&b=2&b=3',
    });
    expect(await res.json()).toMatchObject({ method: 'POST', body: { a: '1', b: ['2', '3'] } });
    const journal = (await (await call('/_control/requests')).json()) as unknown[];
    expect(journal.at(-1)).toMatchObject({ vendor: 'echo', method: 'POST', path: '/things' });
  });

  it('injects faults by vendor, method and path, for a number of requests', async () => {
    const added = await call('/_control/faults', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        vendor: 'echo',
        method: 'get',
        pathIncludes: '/slow',
        status: 429,
        retryAfterS: 7,
        latencyMs: 20,
        remaining: 1,
      }),
    });
    expect(added.status).toBe(201);
    expect((await (await call('/_control/faults')).json()) as unknown[]).toHaveLength(1);
    const started = Date.now();
    const limited = await call('/echo/slow');
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toEqual({ error: { status: 429, message: 'injected fault' } });
    // Spent: the next one passes; other paths never matched.
    expect((await call('/echo/slow')).status).toBe(200);
    expect((await call('/_control/faults').then((r) => r.json())) as unknown[]).toEqual([]);
  });

  it('delays without failing when a fault has only latency; fails without Retry-After', async () => {
    sim.context.faults.add({ vendor: 'echo', latencyMs: 10, remaining: 1 });
    expect((await call('/echo/x')).status).toBe(200);
    sim.context.faults.add({ vendor: 'echo', status: 500, remaining: 2 });
    for (let i = 0; i < 2; i += 1) {
      const res = await call('/echo/x');
      expect(res.status).toBe(500);
      expect(res.headers.get('retry-after')).toBeNull();
    }
    expect((await call('/echo/x')).status).toBe(200);
  });

  it('sends webhooks through the control API and lists them; reset clears everything', async () => {
    const sent = await call('/_control/echo/ping', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiverUrl }),
    });
    expect(await sent.json()).toMatchObject({ status: 202, vendor: 'echo' });
    expect(received).toContain('{"event":"ping"}');
    const log = (await (await call('/_control/webhooks')).json()) as unknown[];
    expect(log).toHaveLength(1);
    sim.context.faults.add({ vendor: 'echo', status: 500 });
    await call('/_control/reset', { method: 'POST' });
    expect((await (await call('/_control/webhooks')).json()) as unknown[]).toEqual([]);
    expect((await (await call('/_control/requests')).json()) as unknown[]).toEqual([]);
    expect(((await (await call('/echo/x')).json()) as { calls: number }).calls).toBe(1);
  });

  it('keeps a bounded journal of requests', async () => {
    const entry = { vendor: 'echo', method: 'GET', path: '/old', at: '' };
    sim.context.journal.length = 0;
    sim.context.journal.push(...Array.from({ length: 10_000 }, () => entry));
    await call('/echo/new');
    expect(sim.context.journal).toHaveLength(10_000);
    expect(sim.context.journal.at(-1)?.path).toBe('/new');
    sim.context.journal.length = 0;
  });

  it('records an undeliverable webhook as an error', async () => {
    const sender = new WebhookSender(100);
    const record = await sender.send('echo', 'http://127.0.0.1:1/nowhere', '{}', {});
    expect(record.status).toBe('error');
  });

  it('listens on the port asked for', async () => {
    const withoutControl: VendorSimulator = { ...echoVendor(), control: undefined };
    const other = await createSimulatorServer({ vendors: [withoutControl] });
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    expect(await other.listen(port)).toBe(`http://127.0.0.1:${String(port)}`);
    await other.close();
  });
});

describe('pieces', () => {
  it('parses repeated form keys into arrays', () => {
    expect(parseForm('a=1&a=2&a=3&b=x')).toEqual({ a: ['1', '2', '3'], b: 'x' });
  });

  it('matches faults on any method or path when those are not given', () => {
    const book = new FaultBook();
    book.add({ vendor: 'v', status: 503 });
    expect(book.take('v', 'DELETE', '/anything')?.status).toBe(503);
    expect(book.take('w', 'GET', '/')).toBeUndefined();
    book.clear();
    expect(book.list()).toEqual([]);
  });
});
