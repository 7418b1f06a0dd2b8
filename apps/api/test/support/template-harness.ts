import { domainEvents, usageEvents, withTenant, type DatabaseHandle } from '@maxai/db';
import {
  allVendorSimulators,
  createSimulatorServer,
  type JournalEntry,
  type SentWebhook,
  type SimulatorServer,
} from '@maxai/simulators';
import { and, asc, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { DATABASE } from '../../src/platform/database/database.module';
import { as, signupOwner, type Account } from './accounts';
import { freePort } from './free-port';
import { promptUrl } from './prompts';
import { startTestApp, type TestApp } from './test-app';
import { waitFor } from './waiting';

export interface RunStep {
  stepId: string;
  type: string;
  status: string;
  input: Record<string, unknown> | null;
  output: unknown;
  promptVersionId: string | null;
}

export interface Run {
  id: string;
  status: string;
  error: string | null;
  triggerEventId: string;
  steps: RunStep[];
}

const PORTAL_URL = 'http://portal.test';

/**
 * One client of a real platform (API + worker) wired to the provider simulators as an installer
 * would do it: Twilio and OpenRouter by API key, GoHighLevel and Google by the OAuth connect flow,
 * each bound to its port for the client; signed webhook endpoints for Twilio and Retell; a Retell
 * agent answering the client's voice number. Helpers drive the simulators and read their effects.
 */
export class TemplateHarness {
  sim!: SimulatorServer;
  simUrl!: string;
  t!: TestApp;
  owner!: Account;
  api!: ReturnType<typeof as>;
  base!: string;
  clientId!: string;
  twilioEndpoint!: string;
  retellEndpoint!: string;
  retellKey!: string;
  retellAgentId!: string;

  constructor(
    /** The client's SMS number (Twilio). */
    readonly smsNumber: string,
    /** The client's voice number (Retell). */
    readonly voiceNumber: string,
  ) {}

  async start(): Promise<void> {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${String(port)}`;
    this.sim = await createSimulatorServer({ vendors: allVendorSimulators(), publicUrl });
    this.simUrl = await this.sim.listen();
    this.t = await startTestApp('standalone', {
      PROVIDERS: 'sandbox',
      SIMULATORS_URL: this.simUrl,
      PUBLIC_URL: publicUrl,
      PORTAL_URL,
      FLOW_POLL_INTERVAL_MS: '20',
      JOBS_POLL_INTERVAL_MS: '20',
    });
    await this.t.app.listen(port, '127.0.0.1');
    this.owner = await signupOwner(this.t.app);
    this.api = as(this.t.app, this.owner.token);
    this.base = `/v1/tenants/${this.owner.tenantId}`;
    this.clientId = (
      await this.api.post(`${this.base}/clients`, { name: 'Bright Smiles Dental' })
    ).json<{ id: string }>().id;

    const twilio = (await this.control('twilio/accounts', { numbers: [this.smsNumber] })) as {
      accountSid: string;
      authToken: string;
    };
    const messaging = await this.connection('twilio', {
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
    });
    await this.control('openrouter/keys', { key: 'sk-or-v1-bright-smiles' });
    const llm = await this.connection('openrouter', { apiKey: 'sk-or-v1-bright-smiles' });
    const crm = await this.oauthConnect('gohighlevel');
    const calendar = await this.oauthConnect('google');
    for (const [port, connectionId] of [
      ['messaging', messaging],
      ['llm', llm],
      ['crm', crm],
      ['calendar', calendar],
    ] as const) {
      const bound = await this.api.put(`${this.base}/bindings/${port}`, {
        connectionId,
        clientId: this.clientId,
      });
      expect(bound.statusCode, bound.body).toBe(200);
    }

    this.twilioEndpoint = await this.endpoint({
      provider: 'twilio',
      name: 'Twilio SMS',
      clientId: this.clientId,
      connectionId: messaging,
    });
    const workspace = (await this.control('retell/workspaces', {
      numbers: [this.voiceNumber],
    })) as { apiKey: string };
    this.retellKey = workspace.apiKey;
    this.retellEndpoint = await this.endpoint({
      provider: 'retell',
      name: 'Retell calls',
      clientId: this.clientId,
      secrets: { apiKey: workspace.apiKey },
    });
    const retellLlm = await this.retell('/create-retell-llm', { general_prompt: 'Front desk.' });
    const agent = await this.retell('/create-agent', {
      response_engine: { type: 'retell-llm', llm_id: retellLlm.llm_id },
      voice_id: 'sim-voice',
      agent_name: 'Front desk',
    });
    this.retellAgentId = String(agent.agent_id);
  }

  async close(): Promise<void> {
    await this.t.close();
    await this.sim.close();
  }

  async control(path: string, body: object): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.simUrl}/_control/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, path).toBeLessThan(300);
    return res.json() as Promise<Record<string, unknown>>;
  }

  /** A call to Retell's API with the client's workspace key. */
  async retell(path: string, body: object): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.simUrl}/retell${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.retellKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, path).toBeLessThan(300);
    return res.json() as Promise<Record<string, unknown>>;
  }

  private async connection(provider: string, credentials: object): Promise<string> {
    const res = await this.api.post(`${this.base}/connections`, {
      provider,
      name: provider,
      clientId: this.clientId,
      credentials,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string }>().id;
  }

  /** The OAuth connect flow: consent at the provider's page, back through our callback. */
  private async oauthConnect(provider: 'gohighlevel' | 'google'): Promise<string> {
    const started = await this.api.post(`${this.base}/connections/${provider}/authorize`, {
      name: provider,
      clientId: this.clientId,
    });
    expect(started.statusCode, started.body).toBe(200);
    const authorizeUrl = new URL(started.json<{ authorizeUrl: string }>().authorizeUrl);
    const consent = await fetch(authorizeUrl, { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const back = new URL(consent.headers.get('location')!);
    const callback = await this.t.app.inject({
      method: 'GET',
      url: `${back.pathname}${back.search}`,
    });
    expect(callback.statusCode, callback.body).toBe(302);
    return new URL(callback.headers.location!).pathname.split('/').at(-1)!;
  }

  private async endpoint(body: object): Promise<string> {
    const res = await this.api.post(`${this.base}/webhook-endpoints`, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ url: string }>().url;
  }

  /** A text prompt of the tenant, its version 1 labelled production. */
  async prompt(key: string, content: string, variables: Record<string, object>): Promise<void> {
    const tenantId = this.owner.tenantId;
    expect((await this.api.post(`${this.base}/prompts`, { key, kind: 'text' })).statusCode).toBe(
      201,
    );
    const version = await this.api.post(promptUrl(tenantId, key, undefined, '/versions'), {
      content,
      variablesSchema: { type: 'object', properties: variables },
      modelSettings: { model: 'openai/gpt-4o-mini', temperature: 0.3 },
    });
    expect(version.statusCode, version.body).toBe(201);
    const label = await this.api.put(promptUrl(tenantId, key, undefined, '/labels/production'), {
      version: 1,
    });
    expect(label.statusCode, label.body).toBe(200);
  }

  /** Installs (and activates) a bundled template for the client; answers the flow id. */
  async install(template: string, parameters: object): Promise<string> {
    const res = await this.api.post(
      `${this.base}/clients/${this.clientId}/flow-templates/${template}/install`,
      { parameters },
    );
    expect(res.statusCode, res.body).toBe(201);
    const flow = res.json<{ id: string; activeVersion: number | null }>();
    expect(flow.activeVersion).toBe(1);
    return flow.id;
  }

  /** The next answers of the LLM, in order. */
  async llmAnswers(...texts: string[]): Promise<void> {
    await this.control('openrouter/responses', { answers: texts.map((text) => ({ text })) });
  }

  inboundSms(from: string, body: string): Promise<Record<string, unknown>> {
    return this.control('twilio/inbound', {
      from,
      to: this.smsNumber,
      body,
      url: this.twilioEndpoint,
    });
  }

  /**
   * A call to the client's Twilio number ends (`no-answer`, `busy`, `completed`…): Twilio's
   * signed status callback goes to the client's Twilio endpoint, which acknowledges it.
   */
  async twilioCallEnded(
    from: string,
    status: string,
  ): Promise<{ callSid: string; webhook: SentWebhook }> {
    const call = await this.control('twilio/calls/inbound', {
      from,
      to: this.smsNumber,
      status,
      url: this.twilioEndpoint,
    });
    const webhook = call.webhook as SentWebhook;
    expect(webhook.status).toBe(200);
    return { callSid: String(call.callSid), webhook };
  }

  /**
   * A call to the client's Twilio number is forwarded with `<Dial action>` and the forward ends
   * `dialStatus` (`no-answer`, `busy`, `completed`…): the signed action request, then the call's
   * own `completed` status callback, both to the client's Twilio endpoint, which acknowledges them.
   */
  async twilioCallForwarded(
    from: string,
    dialStatus: string,
  ): Promise<{ callSid: string; dialCallSid: string; action: SentWebhook; ended: SentWebhook }> {
    const call = await this.control('twilio/calls/inbound', {
      from,
      to: this.smsNumber,
      url: this.twilioEndpoint,
      forward: { status: dialStatus },
    });
    const forward = call.forward as { dialCallSid: string; webhook: SentWebhook };
    const ended = call.webhook as SentWebhook;
    expect(forward.webhook.status).toBe(200);
    expect(ended.status).toBe(200);
    return {
      callSid: String(call.callSid),
      dialCallSid: forward.dialCallSid,
      action: forward.webhook,
      ended,
    };
  }

  /** A call rings the client's voice number; answers the call id. */
  async inboundCall(from: string): Promise<string> {
    const call = await this.control('retell/calls/inbound', {
      from,
      to: this.voiceNumber,
      agentId: this.retellAgentId,
    });
    return String(call.call_id);
  }

  /** The agent calls a customer; answers the call id. */
  async outboundCall(to: string): Promise<string> {
    const call = await this.retell('/v2/create-phone-call', {
      from_number: this.voiceNumber,
      to_number: to,
      override_agent_id: this.retellAgentId,
    });
    return String(call.call_id);
  }

  /** Moves a call on; Retell's signed webhooks go to the client's endpoint. */
  async progress(callId: string, body: object): Promise<void> {
    const result = (await this.control(`retell/calls/${callId}/progress`, {
      ...body,
      url: this.retellEndpoint,
    })) as { webhooks: { status: number }[] };
    expect(result.webhooks.every((w) => w.status === 200)).toBe(true);
  }

  journal(vendor: string, method: string, path: RegExp): JournalEntry[] {
    return this.sim.context.journal.filter(
      (e) => e.vendor === vendor && e.method === method && path.test(e.path),
    );
  }

  /** SMS the platform sent through Twilio (To, From, Body). */
  sentSms(to?: string): Record<string, string>[] {
    return this.journal('twilio', 'POST', /\/Messages\.json$/)
      .map((e) => e.body as Record<string, string>)
      .filter((m) => to === undefined || m.To === to);
  }

  /** Notes added in GoHighLevel, with the contact they went on. */
  notes(): { contactId: string; body: string }[] {
    return this.journal('ghl', 'POST', /^\/contacts\/[^/]+\/notes$/).map((e) => ({
      contactId: e.path.split('/')[2]!,
      body: (e.body as { body: string }).body,
    }));
  }

  /** A GoHighLevel contact as the simulator holds it (through the API, with a fresh token). */
  async contact(phone: string): Promise<{ id: string; tags: string[]; source?: string }> {
    const tokens = (await this.control('ghl/tokens', {})) as { access_token: string };
    const res = await fetch(`${this.simUrl}/ghl/contacts/search`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokens.access_token}`,
        version: '2021-07-28',
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        locationId: 'loc_sandbox',
        filters: [{ field: 'phone', operator: 'eq', value: phone }],
      }),
    });
    const found = (await res.json()) as {
      contacts: { id: string; tags: string[]; source?: string }[];
    };
    expect(found.contacts).toHaveLength(1);
    return found.contacts[0]!;
  }

  /**
   * Waits until the event of `type` about `subject` has been handed to every subscriber (the
   * orchestrator's trigger included: whatever runs it starts exist by then); answers its data.
   */
  async dispatched(type: string, subject: string): Promise<Record<string, unknown>> {
    const { db } = this.t.app.get<DatabaseHandle>(DATABASE);
    return waitFor(
      async () => {
        const rows = await withTenant(db, this.owner.tenantId, (tx) =>
          tx
            .select()
            .from(domainEvents)
            .where(and(eq(domainEvents.type, type), eq(domainEvents.subject, subject))),
        );
        return rows[0]?.dispatchedAt ? rows[0].data : undefined;
      },
      10_000,
      20,
    );
  }

  /** The data of the `count` events of `type` about `subject`, once all are dispatched, in order. */
  async dispatchedAll(
    type: string,
    subject: string,
    count: number,
  ): Promise<Record<string, unknown>[]> {
    const { db } = this.t.app.get<DatabaseHandle>(DATABASE);
    return waitFor(
      async () => {
        const rows = await withTenant(db, this.owner.tenantId, (tx) =>
          tx
            .select()
            .from(domainEvents)
            .where(and(eq(domainEvents.type, type), eq(domainEvents.subject, subject)))
            .orderBy(asc(domainEvents.id)),
        );
        const done = rows.length === count && rows.every((row) => row.dispatchedAt);
        return done ? rows.map((row) => row.data) : undefined;
      },
      10_000,
      20,
    );
  }

  async runs(flowId: string): Promise<Run[]> {
    return (await this.api.get(`${this.base}/flow-runs?flowId=${flowId}`)).json<{ data: Run[] }>()
      .data;
  }

  async run(id: string): Promise<Run> {
    return (await this.api.get(`${this.base}/flow-runs/${id}`)).json<Run>();
  }

  /** Waits for the flow's `count`-th run to finish; answers it with its steps. */
  async finished(flowId: string, count: number): Promise<Run> {
    const runs = await waitFor(
      async () => {
        const list = await this.runs(flowId);
        return list.length >= count &&
          list.every((r) => !['queued', 'running', 'waiting'].includes(r.status))
          ? list
          : undefined;
      },
      20_000,
      20,
    );
    expect(runs).toHaveLength(count);
    // Newest first.
    return this.run(runs[0]!.id);
  }

  /** The step ids a run went through, with their statuses. */
  static path(run: Run): string[] {
    return run.steps.map((s) => `${s.stepId}:${s.status}`);
  }

  async usage(runId: string) {
    const { db } = this.t.app.get<DatabaseHandle>(DATABASE);
    return withTenant(db, this.owner.tenantId, (tx) =>
      tx
        .select()
        .from(usageEvents)
        .where(eq(usageEvents.runId, runId))
        .orderBy(asc(usageEvents.stepId)),
    );
  }
}
