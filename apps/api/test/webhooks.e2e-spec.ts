import { createHmac } from 'node:crypto';
import { users, type DatabaseHandle } from '@maxai/db';
import { expectedTwilioSignature, signN8nCallback } from '@maxai/integrations';
import {
  allVendorSimulators,
  createSimulatorServer,
  type SentWebhook,
  type SimulatorServer,
} from '@maxai/simulators';
import { eq } from 'drizzle-orm';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '../src/modules/events/events.service';
import { EventSubscribers } from '../src/modules/events/event-subscribers';
import { WebhooksRepository } from '../src/modules/webhooks/webhooks.repository';
import { DATABASE } from '../src/platform/database/database.module';
import { MetricsService } from '../src/platform/metrics/metrics.service';
import { as, clientUser, signupOwner, staffToken, type Account } from './support/accounts';
import { freePort } from './support/free-port';
import { startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/waiting';

interface Endpoint {
  id: string;
  url: string;
  provider: string;
  setup: Record<string, unknown>;
}
interface Delivery {
  id: string;
  status: string;
  clientId: string | null;
  agentId: string | null;
  providerEventId: string;
  duplicateCount: number;
  events: { id: string; type: string; dispatchCount: number; data: Record<string, unknown> }[];
}

describe('webhook ingress, end to end from the provider simulators', () => {
  let sim: SimulatorServer;
  let simUrl: string;
  let t: TestApp;
  let owner: Account;
  let api: ReturnType<typeof as>;
  let base: string;
  let clientId: string;
  const received: CloudEvent[] = [];

  const control = async (path: string, body: object) => {
    const res = await fetch(`${simUrl}/_control/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, path).toBeLessThan(300);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const createEndpoint = async (body: object): Promise<Endpoint> => {
    const res = await api.post(`${base}/webhook-endpoints`, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json<Endpoint>();
  };
  const deliveries = async (query = '') =>
    (await api.get(`${base}/webhook-deliveries${query}`)).json<{ data: Delivery[] }>().data;
  const deliveryOf = async (providerEventId: string) =>
    (await deliveries()).find((d) => d.providerEventId === providerEventId);
  /** Posts exactly what a simulator sent, again (a provider's redelivery). */
  const redeliver = (sent: SentWebhook) =>
    t.app.inject({
      method: 'POST',
      url: new URL(sent.url).pathname + new URL(sent.url).search,
      headers: sent.headers,
      payload: sent.body,
    });

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${String(port)}`;
    sim = await createSimulatorServer({ vendors: allVendorSimulators(), publicUrl });
    simUrl = await sim.listen();
    t = await startTestApp('standalone', {
      PROVIDERS: 'sandbox',
      SIMULATORS_URL: simUrl,
      PUBLIC_URL: publicUrl,
      WEBHOOK_BODY_LIMIT_BYTES: String(64 * 1024),
    });
    await t.app.listen(port, '127.0.0.1');
    t.app.get(EventSubscribers).subscribe({
      name: 'test-recorder',
      types: ['maxai.*'],
      handle: (event) => {
        received.push(event);
        return Promise.resolve();
      },
    });
    owner = await signupOwner(t.app);
    api = as(t.app, owner.token);
    base = `/v1/tenants/${owner.tenantId}`;
    clientId = (await api.post(`${base}/clients`, { name: 'Dental Clinic' })).json<{ id: string }>()
      .id;
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
  });

  it('stores, normalizes and dispatches a Stripe event once, whatever the redeliveries', async () => {
    const endpoint = await createEndpoint({
      provider: 'stripe',
      name: 'Stripe',
      secrets: { signingSecrets: ['whsec_simulator'] },
    });
    expect(endpoint.url).toMatch(/\/webhooks\/stripe\/[0-9a-f-]{36}$/);
    const customer = await fetch(`${simUrl}/stripe/v1/customers`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer sk_test_simulator',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'email=pat%40example.com',
    }).then((r) => r.json() as Promise<{ id: string }>);
    const sent = (await control('stripe/events', {
      type: 'customer.created',
      id: customer.id,
      url: endpoint.url,
    })) as { event: { id: string } };
    expect(sent.event.id).toMatch(/^evt_/);
    const first = sim.context.webhooks.sent.at(-1)!;
    expect(first.status).toBe(200);
    const delivery = await waitFor(() => deliveryOf(sent.event.id));
    // customer.created is not one of ours: kept as a dead letter, acknowledged so Stripe stops.
    expect(delivery).toMatchObject({ status: 'unprocessable', duplicateCount: 0 });

    const session = await fetch(`${simUrl}/stripe/v1/checkout/sessions`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer sk_test_simulator',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        mode: 'payment',
        'line_items[0][price_data][currency]': 'usd',
        'line_items[0][price_data][unit_amount]': '4900',
        'line_items[0][price_data][product_data][name]': 'Setup fee',
        'line_items[0][quantity]': '1',
        success_url: 'https://portal.test/ok',
      }).toString(),
    }).then((r) => r.json() as Promise<{ id: string }>);
    const completed = (await control('stripe/events', {
      type: 'checkout.session.completed',
      id: session.id,
      url: endpoint.url,
    })) as { event: { id: string } };
    const sentCompleted = sim.context.webhooks.sent.at(-1)!;
    expect(sentCompleted.status).toBe(200);
    const stored = await waitFor(() => deliveryOf(completed.event.id));
    expect(stored.status).toBe('accepted');
    expect(stored.events).toHaveLength(1);
    expect(stored.events[0]!.type).toBe('maxai.payments.checkout.completed');
    await waitFor(() =>
      Promise.resolve(
        received.some((e) => e.subject === session.id && e.tenantid === owner.tenantId),
      ),
    );

    for (let i = 0; i < 3; i += 1) {
      const again = await redeliver(sentCompleted);
      expect(again.statusCode).toBe(200);
    }
    const after = await deliveryOf(completed.event.id);
    expect(after?.duplicateCount).toBe(3);
    expect(after?.events).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((e) => e.id === stored.events[0]!.id)).toHaveLength(1);
  });

  it('answers Twilio with empty TwiML and verifies against the public URL, form and JSON', async () => {
    const account = (await control('twilio/accounts', { numbers: ['+15550001111'] })) as {
      accountSid: string;
      authToken: string;
    };
    const connection = (
      await api.post(`${base}/connections`, {
        provider: 'twilio',
        name: 'Twilio',
        clientId,
        credentials: { accountSid: account.accountSid, authToken: account.authToken },
      })
    ).json<{ id: string }>();
    const endpoint = await createEndpoint({
      provider: 'twilio',
      name: 'Twilio inbound',
      clientId,
      connectionId: connection.id,
    });
    await control('twilio/inbound', {
      from: '+15557654321',
      to: '+15550001111',
      body: 'Hi, can I book for Tuesday?',
      url: endpoint.url,
    });
    const sent = sim.context.webhooks.sent.at(-1)!;
    expect(sent.status).toBe(200);
    const raw = await fetch(sent.url, { method: 'POST', headers: sent.headers, body: sent.body });
    expect(raw.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(await raw.text()).toContain('<Response/>');

    await control('twilio/inbound', {
      from: '+15557654321',
      to: '+15550001111',
      body: 'JSON variant',
      url: endpoint.url,
      format: 'json',
    });
    expect(sim.context.webhooks.sent.at(-1)!.status).toBe(200);
    const sms = await waitFor(async () =>
      (await deliveries(`?endpointId=${endpoint.id}`)).filter((d) => d.status === 'accepted'),
    );
    expect(sms.length).toBe(2);
    expect(sms[0]!.clientId).toBe(clientId);
    expect(sms.flatMap((d) => d.events.map((e) => e.type))).toEqual([
      'maxai.messaging.sms.received',
      'maxai.messaging.sms.received',
    ]);

    // Signed for the public URL (behind a proxy) but received on another: rejected.
    const params = { MessageSid: 'SMproxy', From: '+15557654321', To: '+15550001111', Body: 'x' };
    const localPath = new URL(endpoint.url).pathname;
    const wrongUrl = `https://proxy.example.com${localPath}`;
    const rejected = await t.app.inject({
      method: 'POST',
      url: localPath,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': expectedTwilioSignature(account.authToken, wrongUrl, params),
      },
      payload: new URLSearchParams(params).toString(),
    });
    expect(rejected.statusCode).toBe(401);
    expect(rejected.json()).toMatchObject({
      type: 'https://docs.maxai.dev/problems/webhook-signature-invalid',
    });
  });

  it('attributes Retell calls to the mapped agent, and maps call outcomes', async () => {
    const agent = (
      await api.post(`${base}/clients/${clientId}/agents`, { name: 'Front desk', channel: 'voice' })
    ).json<{ id: string }>();
    const workspace = (await control('retell/workspaces', { numbers: ['+15550002222'] })) as {
      apiKey: string;
    };
    const retell = (path: string, body: object) =>
      fetch(`${simUrl}/retell${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${workspace.apiKey}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<Record<string, string>>);
    const llm = await retell('/create-retell-llm', { general_prompt: 'Be kind.' });
    const retellAgent = await retell('/create-agent', {
      response_engine: { type: 'retell-llm', llm_id: llm.llm_id },
      voice_id: 'sim-voice',
    });
    const mapping = await api.post(`${base}/external-ids`, {
      provider: 'retell',
      kind: 'voice_agent',
      externalId: retellAgent.agent_id,
      clientId,
      agentId: agent.id,
    });
    expect(mapping.statusCode).toBe(201);
    const endpoint = await createEndpoint({
      provider: 'retell',
      name: 'Retell',
      secrets: { apiKey: workspace.apiKey },
    });
    const call = await retell('/v2/create-phone-call', {
      from_number: '+15550002222',
      to_number: '+15553334444',
      override_agent_id: retellAgent.agent_id,
    });
    await control(`retell/calls/${call.call_id!}/progress`, {
      outcome: 'answered',
      url: endpoint.url,
      analysis: { custom_analysis_data: { intent: 'book_appointment' } },
    });
    const stored = await waitFor(async () => {
      const rows = (await deliveries(`?endpointId=${endpoint.id}`)).filter(
        (d) => d.status === 'accepted',
      );
      return rows.length === 3 ? rows : undefined;
    });
    expect(stored.every((d) => d.clientId === clientId && d.agentId === agent.id)).toBe(true);
    expect(stored.flatMap((d) => d.events.map((e) => e.type)).sort()).toEqual([
      'maxai.voice.call.analyzed',
      'maxai.voice.call.ended',
      'maxai.voice.call.started',
    ]);
    const analyzed = stored.flatMap((d) => d.events).find((e) => e.type.endsWith('analyzed'))!;
    expect(analyzed.data).toMatchObject({
      callId: call.call_id,
      custom: { intent: 'book_appointment' },
    });
    const ended = received.find(
      (e) => e.type === 'maxai.voice.call.ended' && e.subject === call.call_id,
    );
    expect(
      await waitFor(() =>
        Promise.resolve(ended ?? received.find((e) => e.subject === call.call_id)),
      ),
    ).toMatchObject({
      agentid: agent.id,
      clientid: clientId,
    });
  });

  it('verifies GoHighLevel (Ed25519) and Google push (channel token) from the simulators', async () => {
    const ghl = await createEndpoint({ provider: 'gohighlevel', name: 'GHL', clientId });
    await control('ghl/webhooks', {
      type: 'ContactCreate',
      url: ghl.url,
      id: 'contact-1',
      firstName: 'Pat',
      phone: '+15557654321',
      timestamp: new Date().toISOString(),
    });
    expect(sim.context.webhooks.sent.at(-1)!.status).toBe(200);
    const google = await createEndpoint({ provider: 'google', name: 'Calendar', clientId });
    const { channelToken, channelIds } = google.setup as {
      channelToken: string;
      channelIds: string[];
    };
    await control('google/push', {
      url: google.url,
      channelId: channelIds[0],
      channelToken,
      resourceId: 'res-1',
      resourceState: 'exists',
      messageNumber: 7,
    });
    expect(sim.context.webhooks.sent.at(-1)!.status).toBe(200);
    await control('google/push', {
      url: google.url,
      channelId: channelIds[0],
      channelToken: 'not-the-token',
      resourceId: 'res-1',
      messageNumber: 8,
    });
    expect(sim.context.webhooks.sent.at(-1)!.status).toBe(401);
    await control('google/push', {
      url: google.url,
      channelId: 'someone-elses-channel',
      channelToken,
      resourceId: 'res-1',
      messageNumber: 9,
    });
    expect(sim.context.webhooks.sent.at(-1)!.status).toBe(401);
    const types = await waitFor(async () => {
      const all = [
        ...(await deliveries(`?endpointId=${ghl.id}`)),
        ...(await deliveries(`?endpointId=${google.id}`)),
      ].flatMap((d) => d.events.map((e) => e.type));
      return all.length === 2 ? all.sort() : undefined;
    });
    expect(types).toEqual(['maxai.calendar.changed', 'maxai.crm.contact.created']);
  });

  it('rejects what it cannot trust and stores nothing of it', async () => {
    const endpoint = await createEndpoint({ provider: 'n8n', name: 'n8n', clientId });
    const secret = (endpoint.setup as { secret: string }).secret;
    const path = new URL(endpoint.url).pathname;
    const body = JSON.stringify({
      correlationId: 'e-1',
      status: 'succeeded',
      output: { ok: true },
    });
    const post = (payload: string, headers: Record<string, string>, url = path) =>
      t.app.inject({ method: 'POST', url, headers, payload });
    const json = { 'content-type': 'application/json' };
    const before = (await deliveries()).length;

    expect((await post(body, json)).statusCode).toBe(401);
    expect(
      (await post(body, { ...json, 'x-maxai-signature': signN8nCallback('wrong', body) }))
        .statusCode,
    ).toBe(401);
    const stale = signN8nCallback(secret, body, Date.now() - 10 * 60_000);
    expect((await post(body, { ...json, 'x-maxai-signature': stale })).statusCode).toBe(401);
    const signed = { ...json, 'x-maxai-signature': signN8nCallback(secret, body) };
    expect((await post(body, signed, `/webhooks/n8n/${crypto.randomUUID()}`)).statusCode).toBe(404);
    expect((await post(body, signed, `/webhooks/stripe/${endpoint.id}`)).statusCode).toBe(404);
    expect((await post(body, signed, '/webhooks/n8n/not-a-uuid')).statusCode).toBe(404);
    expect((await post(body, signed, `/webhooks/acme/${endpoint.id}`)).statusCode).toBe(404);
    expect((await post(body, { ...signed, 'content-type': 'text/plain' })).statusCode).toBe(415);
    const huge = JSON.stringify({
      correlationId: 'e-2',
      status: 'succeeded',
      pad: 'x'.repeat(70_000),
    });
    const tooLarge = await post(huge, {
      ...json,
      'x-maxai-signature': signN8nCallback(secret, huge),
    });
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((await deliveries()).length).toBe(before);

    const metrics = await t.app
      .get(MetricsService)
      .registry.getSingleMetricAsString('webhooks_rejected_total');
    expect(metrics).toMatch(/provider="n8n",reason="missing_signature"\} 1/);
    expect(metrics).toMatch(/provider="n8n",reason="stale_timestamp"\} 1/);

    expect((await post(body, signed)).statusCode).toBe(200);
    expect((await deliveries()).length).toBe(before + 1);
  });

  it('never answers 5xx to random bodies and headers', async () => {
    const endpoint = await createEndpoint({ provider: 'n8n', name: 'fuzz' });
    const path = new URL(endpoint.url).pathname;
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 512 }),
        fc.dictionary(
          fc.constantFrom('content-type', 'x-maxai-signature', 'stripe-signature', 'x-foo'),
          fc.string({ maxLength: 80 }).filter((v) => /^[\x20-\x7e]*$/.test(v)),
        ),
        fc.constantFrom('n8n', 'stripe', 'twilio', 'retell', 'gohighlevel', 'google'),
        async (bytes, headers, provider) => {
          const res = await t.app.inject({
            method: 'POST',
            url: path.replace('/n8n/', `/${provider}/`),
            headers,
            payload: Buffer.from(bytes),
          });
          expect(res.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('limits each endpoint to its own budget', async () => {
    const endpoint = await createEndpoint({
      provider: 'n8n',
      name: 'tight',
      rateLimitPerMinute: 2,
    });
    const path = new URL(endpoint.url).pathname;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await t.app.inject({
        method: 'POST',
        url: path,
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      });
      statuses.push(res.statusCode);
      if (res.statusCode === 429) expect(res.headers['retry-after']).toBeDefined();
    }
    expect(statuses).toEqual([401, 401, 429]);
  });

  it('keeps signed but unreadable bodies as dead letters, replays events, audits raw access', async () => {
    const endpoint = await createEndpoint({ provider: 'n8n', name: 'dead letters', clientId });
    const secret = (endpoint.setup as { secret: string }).secret;
    const path = new URL(endpoint.url).pathname;
    const garbage = 'this is { not json';
    const res = await t.app.inject({
      method: 'POST',
      url: path,
      headers: {
        'content-type': 'application/json',
        'x-maxai-signature': signN8nCallback(secret, garbage),
      },
      payload: garbage,
    });
    expect(res.statusCode).toBe(200);
    const dead = (
      await api.get(`${base}/webhook-deliveries/dead-letters?endpointId=${endpoint.id}`)
    ).json<{ data: Delivery[] }>().data;
    expect(dead).toHaveLength(1);
    expect(dead[0]!.providerEventId).toMatch(/^sha256:/);
    const replayDead = await api.post(`${base}/webhook-deliveries/${dead[0]!.id}/replay`, {});
    expect(replayDead.json()).toEqual({ replayed: [], recovered: false });

    const raw = await api.get(`${base}/webhook-deliveries/${dead[0]!.id}?include=raw`);
    expect(raw.json<{ rawBody: string }>().rawBody).toBe(garbage);
    const viewer = await clientUser(t.app, owner.tenantId, clientId, 'client_viewer');
    const asViewer = as(t.app, viewer.token);
    expect((await asViewer.get(`${base}/webhook-deliveries/${dead[0]!.id}`)).statusCode).toBe(200);
    expect(
      (await asViewer.get(`${base}/webhook-deliveries/${dead[0]!.id}?include=raw`)).statusCode,
    ).toBe(403);
    const audit = (await api.get(`${base}/audit-events?action=webhook_delivery.raw_viewed`)).json<{
      data: unknown[];
    }>();
    expect(audit.data.length).toBeGreaterThanOrEqual(1);

    const good = JSON.stringify({ correlationId: 'e-replay', status: 'succeeded', output: {} });
    await t.app.inject({
      method: 'POST',
      url: path,
      headers: {
        'content-type': 'application/json',
        'x-maxai-signature': signN8nCallback(secret, good),
      },
      payload: good,
    });
    const event = await waitFor(async () => {
      const rows = await deliveries(`?endpointId=${endpoint.id}&status=accepted`);
      const found = rows[0]?.events[0];
      return found && found.dispatchCount >= 1 ? found : undefined;
    });
    const replayed = await api.post(`${base}/events/${event.id}/replay`, {});
    expect(replayed.json()).toEqual({ replayed: [event.id] });
    const many = await api.post(`${base}/events/replay`, {
      type: 'maxai.workflow.callback.received',
      max: 10,
    });
    expect(many.json<{ replayed: string[] }>().replayed).toContain(event.id);
    await waitFor(async () => {
      const rows = await deliveries(`?endpointId=${endpoint.id}&status=accepted`);
      return (rows[0]?.events[0]?.dispatchCount ?? 0) >= 3;
    });
    expect((await asViewer.post(`${base}/events/${event.id}/replay`, {})).statusCode).toBe(403);
  });

  it('purges raw bodies after the retention period and keeps the events', async () => {
    const endpoint = await createEndpoint({ provider: 'n8n', name: 'retention' });
    const secret = (endpoint.setup as { secret: string }).secret;
    const body = JSON.stringify({ correlationId: 'e-old', status: 'succeeded', output: {} });
    await t.app.inject({
      method: 'POST',
      url: new URL(endpoint.url).pathname,
      headers: {
        'content-type': 'application/json',
        'x-maxai-signature': signN8nCallback(secret, body),
      },
      payload: body,
    });
    const [delivery] = await deliveries(`?endpointId=${endpoint.id}`);
    const repository = t.app.get(WebhooksRepository);
    // Nothing is old enough yet; a cut-off in the future stands in for 30 days passing.
    expect(await repository.purgeBodies(new Date(Date.now() - 30 * 86_400_000), 1000)).toBe(0);
    expect(
      await repository.purgeBodies(new Date(Date.now() + 60_000), 1000),
    ).toBeGreaterThanOrEqual(1);
    const detail = (await api.get(`${base}/webhook-deliveries/${delivery!.id}?include=raw`)).json<{
      rawBody: string | null;
      purgedAt: string | null;
      events: unknown[];
    }>();
    expect(detail.rawBody).toBeNull();
    expect(detail.purgedAt).not.toBeNull();
    expect(detail.events).toHaveLength(1);
    const gone = await api.post(`${base}/webhook-deliveries/${delivery!.id}/replay`, {});
    expect(gone.statusCode).toBe(200);
  });

  it('manages endpoints: secrets never shown again, rotation, disable, delete, stats, staff view', async () => {
    const endpoint = await createEndpoint({ provider: 'n8n', name: 'manage', clientId });
    const path = new URL(endpoint.url).pathname;
    const got = (await api.get(`${base}/webhook-endpoints/${endpoint.id}`)).json<object>();
    expect(JSON.stringify(got)).not.toContain((endpoint.setup as { secret: string }).secret);
    expect(
      (await api.get(`${base}/webhook-endpoints`)).json<{ data: unknown[] }>().data.length,
    ).toBeGreaterThan(0);

    const rotated = (
      await api.patch(`${base}/webhook-endpoints/${endpoint.id}`, {
        secrets: { secret: 'a-brand-new-shared-secret-1234' },
      })
    ).json<Endpoint>();
    expect(rotated.setup).toEqual({ secret: 'a-brand-new-shared-secret-1234' });
    const body = '{"correlationId":"rot","status":"succeeded"}';
    const send = (secret: string) =>
      t.app.inject({
        method: 'POST',
        url: path,
        headers: {
          'content-type': 'application/json',
          'x-maxai-signature': signN8nCallback(secret, body),
        },
        payload: body,
      });
    expect((await send((endpoint.setup as { secret: string }).secret)).statusCode).toBe(401);
    expect((await send('a-brand-new-shared-secret-1234')).statusCode).toBe(200);
    expect((await send('a-brand-new-shared-secret-1234')).statusCode).toBe(200);
    const stats = (await api.get(`${base}/webhook-endpoints/${endpoint.id}/stats`)).json();
    expect(stats).toMatchObject({ accepted: 1, unprocessable: 0, duplicates: 1 });

    await api.patch(`${base}/webhook-endpoints/${endpoint.id}`, { status: 'disabled' });
    expect((await send('a-brand-new-shared-secret-1234')).statusCode).toBe(404);
    expect((await api.delete(`${base}/webhook-endpoints/${endpoint.id}`)).statusCode).toBe(204);
    expect((await api.get(`${base}/webhook-endpoints/${endpoint.id}`)).statusCode).toBe(404);

    const stripeWithout = await api.post(`${base}/webhook-endpoints`, {
      provider: 'stripe',
      name: 'no secret',
    });
    expect(stripeWithout.statusCode).toBe(422);

    const staff = await signupOwner(t.app);
    const { db } = t.app.get<DatabaseHandle>(DATABASE);
    await db
      .update(users)
      .set({ platformRole: 'platform_support' })
      .where(eq(users.email, staff.email));
    const staffApi = as(t.app, await staffToken(t.app, staff.email));
    const across = (
      await staffApi.get(`/v1/webhook-deliveries?tenantId=${owner.tenantId}&limit=500`)
    ).json<{ data: Delivery[] }>();
    expect(across.data.length).toBeGreaterThan(3);
    expect((await api.get('/v1/webhook-deliveries')).statusCode).toBe(403);
  });

  it('publishes every event type with a data schema that the stored events satisfy', async () => {
    const catalogue = (await api.get('/v1/event-types')).json<{
      data: { type: string; dataSchema: object; sources: unknown[] }[];
    }>().data;
    expect(catalogue.length).toBeGreaterThanOrEqual(20);
    const ajv = new Ajv({ strict: false });
    const validators = new Map(catalogue.map((c) => [c.type, ajv.compile(c.dataSchema)]));
    const events = (await deliveries('?limit=500')).flatMap((d) => d.events);
    expect(events.length).toBeGreaterThan(5);
    for (const event of events) {
      const validate = validators.get(event.type);
      expect(validate, event.type).toBeDefined();
      expect(validate!(event.data), `${event.type}: ${ajv.errorsText(validate!.errors)}`).toBe(
        true,
      );
    }
    expect((await t.app.inject({ method: 'GET', url: '/v1/event-types' })).statusCode).toBe(401);
  });

  it('signs Stripe-style bodies byte-exactly (a re-serialized body fails)', async () => {
    const endpoint = await createEndpoint({
      provider: 'stripe',
      name: 'bytes',
      secrets: { signingSecrets: ['whsec_bytes_secret'] },
    });
    const body = '{"id":"evt_bytes_1",  "type":"invoice.paid","data":{"object":{"id":"in_1"}}}';
    const t0 = Math.floor(Date.now() / 1000);
    const sig = createHmac('sha256', 'whsec_bytes_secret')
      .update(`${String(t0)}.${body}`)
      .digest('hex');
    const reserialized = JSON.stringify(JSON.parse(body));
    const res = await t.app.inject({
      method: 'POST',
      url: new URL(endpoint.url).pathname,
      headers: {
        'content-type': 'application/json',
        'stripe-signature': `t=${String(t0)},v1=${sig}`,
      },
      payload: reserialized,
    });
    expect(res.statusCode).toBe(401);
  });
});
