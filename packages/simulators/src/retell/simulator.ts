import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SimulatorContext, VendorSimulator } from '../server';
import type { SentWebhook } from '../webhooks';
import { retellSignature } from './signature';

/** The workspace every fresh simulator knows (sandbox demo and tests may register more). */
export const RETELL_SIM_WORKSPACE = {
  apiKey: 'key_sim_retell_0000000000000000',
  phoneNumber: '+14155550100',
} as const;

/**
 * Simulated per-second prices in cents (retellai.com/pricing: voice engine ~$0.07/min, LLM
 * ~$0.045/min, telephony ~$0.015/min); Retell bills a 10-second minimum.
 */
export const RETELL_SIM_PRODUCTS = [
  { product: 'elevenlabs_tts', unit_price: 7 / 60 },
  { product: 'gpt-4.1', unit_price: 4.5 / 60 },
  { product: 'retell_twilio', unit_price: 1.5 / 60 },
] as const;
const MIN_BILLED_SECONDS = 10;

const E164 = /^\+[1-9]\d{6,14}$/;

type CallStatus = 'registered' | 'ongoing' | 'ended' | 'not_connected' | 'error';
type Json = Record<string, unknown>;

interface Workspace {
  apiKey: string;
  numbers: Set<string>;
}

interface Llm {
  owner: string;
  llm_id: string;
  version: number;
  is_published: boolean;
  general_prompt: string | null;
  begin_message: string | null;
  model: string;
  last_modification_timestamp: number;
}

interface Agent {
  owner: string;
  body: Json & { agent_id: string; webhook_url?: string | null };
}

interface Call {
  owner: string;
  body: Json & { call_id: string; agent_id: string; call_status: CallStatus };
}

/**
 * Retell's error body. *unverified*: the API reference (docs.retellai.com/api-references)
 * documents status codes 400/401/402/422/429/500 but not the body; the SDK only reads the
 * status and keeps the parsed body. We answer `{ status: 'error', message }`.
 */
export function retellError(message: string): Json {
  return { status: 'error', message };
}

function id(prefix: string, bytes = 13): string {
  return `${prefix}${randomBytes(bytes).toString('hex')}`;
}

/**
 * Retell AI, the subset the adapter calls (docs.retellai.com/api-references): a Retell LLM
 * holding the prompt, an agent whose `response_engine` references it, outbound phone calls and
 * call details. `Authorization: Bearer <api key>`; objects are scoped to the key's workspace.
 * The control API rings inbound calls to a workspace number, moves calls on (answered → ended,
 * voicemail reached, or not connected with `dial_no_answer`) and posts `call_started` /
 * `call_ended` / `call_analyzed` webhooks signed with the API key.
 */
export function retellSimulator(): VendorSimulator {
  const workspaces = new Map<string, Workspace>();
  const llms = new Map<string, Llm>();
  const agents = new Map<string, Agent>();
  const calls = new Map<string, Call>();

  const seed = (): void => {
    workspaces.set(RETELL_SIM_WORKSPACE.apiKey, {
      apiKey: RETELL_SIM_WORKSPACE.apiKey,
      numbers: new Set([RETELL_SIM_WORKSPACE.phoneNumber]),
    });
  };
  seed();

  const authenticate = (request: FastifyRequest, reply: FastifyReply): Workspace | undefined => {
    const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
    const workspace = match ? workspaces.get(match[1] ?? '') : undefined;
    if (!workspace) void reply.code(401).send(retellError('Invalid API Key'));
    return workspace;
  };

  const fail = (reply: FastifyReply, status: number, message: string): FastifyReply =>
    reply.code(status).send(retellError(message));

  const publicLlm = ({ owner: _owner, ...llm }: Llm): Json => llm;

  /** Posts one event for a call, signed with its workspace's key. */
  const sendEvent = (
    context: SimulatorContext,
    call: Call,
    event: string,
    url: string | undefined,
    snapshot: Call['body'] = call.body,
  ): Promise<SentWebhook> => {
    const agentUrl = agents.get(call.body.agent_id)?.body.webhook_url;
    const target = url ?? agentUrl ?? `${context.publicUrl}/webhooks/retell`;
    const { call_analysis, ...withoutAnalysis } = snapshot;
    // docs.retellai.com/features/webhook-overview: `call_analyzed` carries `call_analysis`.
    const payload =
      event === 'call_analyzed'
        ? { event, call: { ...withoutAnalysis, call_analysis } }
        : { event, call: withoutAnalysis };
    const raw = JSON.stringify(payload);
    return context.webhooks.send('retell', target, raw, {
      'content-type': 'application/json',
      'x-retell-signature': retellSignature(call.owner, raw),
    });
  };

  return {
    prefix: 'retell',
    errorBody(_status, message) {
      return retellError(message);
    },
    reset() {
      workspaces.clear();
      llms.clear();
      agents.clear();
      calls.clear();
      seed();
    },

    api(app: FastifyInstance) {
      // docs.retellai.com/api-references/create-retell-llm
      app.post<{ Body: Json | undefined }>('/create-retell-llm', async (request, reply) => {
        const workspace = authenticate(request, reply);
        if (!workspace) return reply;
        const body = request.body ?? {};
        const llm: Llm = {
          owner: workspace.apiKey,
          llm_id: id('llm_'),
          version: 0,
          is_published: false,
          general_prompt: typeof body.general_prompt === 'string' ? body.general_prompt : null,
          begin_message: typeof body.begin_message === 'string' ? body.begin_message : null,
          model: typeof body.model === 'string' ? body.model : 'gpt-4.1',
          last_modification_timestamp: Date.now(),
        };
        llms.set(llm.llm_id, llm);
        return reply.code(201).send(publicLlm(llm));
      });

      app.get<{ Params: { id: string } }>('/get-retell-llm/:id', async (request, reply) => {
        const workspace = authenticate(request, reply);
        if (!workspace) return reply;
        const llm = llms.get(request.params.id);
        if (llm?.owner !== workspace.apiKey) return fail(reply, 404, 'LLM not found');
        return publicLlm(llm);
      });

      // docs.retellai.com/api-references/update-retell-llm
      app.patch<{ Params: { id: string }; Body: Json | undefined }>(
        '/update-retell-llm/:id',
        async (request, reply) => {
          const workspace = authenticate(request, reply);
          if (!workspace) return reply;
          const llm = llms.get(request.params.id);
          if (llm?.owner !== workspace.apiKey) return fail(reply, 404, 'LLM not found');
          const body = request.body ?? {};
          if (typeof body.general_prompt === 'string') llm.general_prompt = body.general_prompt;
          if (typeof body.begin_message === 'string') llm.begin_message = body.begin_message;
          if (typeof body.model === 'string') llm.model = body.model;
          llm.last_modification_timestamp = Date.now();
          return publicLlm(llm);
        },
      );

      app.delete<{ Params: { id: string } }>('/delete-retell-llm/:id', async (request, reply) => {
        const workspace = authenticate(request, reply);
        if (!workspace) return reply;
        const llm = llms.get(request.params.id);
        if (llm?.owner !== workspace.apiKey) return fail(reply, 404, 'LLM not found');
        llms.delete(llm.llm_id);
        return reply.code(204).send();
      });

      // docs.retellai.com/api-references/create-agent: `response_engine` and `voice_id` required.
      app.post<{ Body: Json | undefined }>('/create-agent', async (request, reply) => {
        const workspace = authenticate(request, reply);
        if (!workspace) return reply;
        const body = request.body ?? {};
        const engine = body.response_engine as { type?: unknown; llm_id?: unknown } | undefined;
        if (typeof body.voice_id !== 'string' || body.voice_id === '') {
          return fail(reply, 400, 'voice_id is required');
        }
        if (engine?.type !== 'retell-llm' || typeof engine.llm_id !== 'string') {
          return fail(reply, 400, 'response_engine must be { type: "retell-llm", llm_id }');
        }
        if (llms.get(engine.llm_id)?.owner !== workspace.apiKey) {
          return fail(reply, 404, 'LLM not found');
        }
        const agent: Agent = {
          owner: workspace.apiKey,
          body: {
            agent_id: id('agent_'),
            version: 0,
            is_published: false,
            agent_name: null,
            language: 'en-US',
            webhook_url: null,
            ...body,
            response_engine: { type: 'retell-llm', llm_id: engine.llm_id, version: 0 },
            last_modification_timestamp: Date.now(),
          },
        };
        agents.set(agent.body.agent_id, agent);
        return reply.code(201).send(agent.body);
      });

      app.get<{ Params: { id: string } }>('/get-agent/:id', async (request, reply) => {
        const workspace = authenticate(request, reply);
        if (!workspace) return reply;
        const agent = agents.get(request.params.id);
        if (agent?.owner !== workspace.apiKey) return fail(reply, 404, 'Agent not found');
        return agent.body;
      });

      // docs.retellai.com/api-references/update-agent
      app.patch<{ Params: { id: string }; Body: Json | undefined }>(
        '/update-agent/:id',
        async (request, reply) => {
          const workspace = authenticate(request, reply);
          if (!workspace) return reply;
          const agent = agents.get(request.params.id);
          if (agent?.owner !== workspace.apiKey) return fail(reply, 404, 'Agent not found');
          const { agent_id: _id, response_engine: _engine, ...patch } = request.body ?? {};
          Object.assign(agent.body, patch, { last_modification_timestamp: Date.now() });
          return agent.body;
        },
      );

      // docs.retellai.com/api-references/create-phone-call
      app.post<{ Body: Json | undefined }>('/v2/create-phone-call', async (request, reply) => {
        const workspace = authenticate(request, reply);
        if (!workspace) return reply;
        const body = request.body ?? {};
        const from = body.from_number;
        const to = body.to_number;
        if (typeof from !== 'string' || !E164.test(from)) {
          return fail(reply, 400, 'from_number must be an E.164 number');
        }
        if (typeof to !== 'string' || !E164.test(to)) {
          return fail(reply, 400, 'to_number must be an E.164 number');
        }
        if (!workspace.numbers.has(from)) {
          return fail(reply, 404, `Phone number ${from} not found in this workspace`);
        }
        const agentId = body.override_agent_id;
        const agent = typeof agentId === 'string' ? agents.get(agentId) : undefined;
        if (typeof agentId !== 'string') {
          return fail(
            reply,
            400,
            `Phone number ${from} has no outbound agent; set override_agent_id`,
          );
        }
        if (agent?.owner !== workspace.apiKey) return fail(reply, 404, 'Agent not found');
        const call: Call = {
          owner: workspace.apiKey,
          body: {
            call_type: 'phone_call',
            call_id: randomBytes(16).toString('hex'),
            agent_id: agentId,
            agent_version: 0,
            agent_name: agent.body.agent_name,
            call_status: 'registered',
            direction: 'outbound',
            from_number: from,
            to_number: to,
            metadata: body.metadata ?? {},
            retell_llm_dynamic_variables: body.retell_llm_dynamic_variables ?? {},
          },
        };
        calls.set(call.body.call_id, call);
        return reply.code(201).send(call.body);
      });

      // docs.retellai.com/api-references/get-call
      app.get<{ Params: { id: string } }>('/v2/get-call/:id', async (request, reply) => {
        const workspace = authenticate(request, reply);
        if (!workspace) return reply;
        const call = calls.get(request.params.id);
        if (call?.owner !== workspace.apiKey) return fail(reply, 404, 'Call not found');
        return call.body;
      });
      return Promise.resolve();
    },

    control(app: FastifyInstance, context: SimulatorContext) {
      /** Registers a workspace (fresh API key unless given) with the numbers it owns. */
      app.post<{ Body: { apiKey?: string; numbers?: string[] } | undefined }>(
        '/workspaces',
        async (request, reply) => {
          const workspace: Workspace = {
            apiKey: request.body?.apiKey ?? id('key_', 16),
            numbers: new Set(request.body?.numbers ?? []),
          };
          workspaces.set(workspace.apiKey, workspace);
          return reply
            .code(201)
            .send({ apiKey: workspace.apiKey, numbers: [...workspace.numbers] });
        },
      );

      /** What a workspace holds (tests check that nothing was left behind). */
      app.get('/state', () => ({
        llms: [...llms.values()].map(publicLlm),
        agents: [...agents.values()].map((a) => a.body),
        calls: [...calls.values()].map((c) => c.body),
      }));

      /**
       * A call comes in to a workspace number: `{ from, to, agentId, metadata? }` registers it as
       * Retell does for the number's inbound agent (`direction: inbound`, the caller in
       * `from_number`); `/calls/:id/progress` then moves it on.
       */
      app.post<{
        Body: { from?: string; to?: string; agentId?: string; metadata?: Json } | undefined;
      }>('/calls/inbound', async (request, reply) => {
        const input = request.body ?? {};
        const workspace = [...workspaces.values()].find((w) => input.to && w.numbers.has(input.to));
        if (!workspace || !input.to) {
          return reply.code(400).send({ error: "'to' must be a number of a workspace" });
        }
        if (!input.from || !E164.test(input.from)) {
          return reply.code(400).send({ error: "'from' must be E.164" });
        }
        const agent = input.agentId ? agents.get(input.agentId) : undefined;
        if (agent?.owner !== workspace.apiKey) {
          return reply.code(400).send({ error: "'agentId' must be an agent of that workspace" });
        }
        const call: Call = {
          owner: workspace.apiKey,
          body: {
            call_type: 'phone_call',
            call_id: randomBytes(16).toString('hex'),
            agent_id: agent.body.agent_id,
            agent_version: 0,
            agent_name: agent.body.agent_name,
            call_status: 'registered',
            direction: 'inbound',
            from_number: input.from,
            to_number: input.to,
            metadata: input.metadata ?? {},
            retell_llm_dynamic_variables: {},
          },
        };
        calls.set(call.body.call_id, call);
        return reply.code(201).send(call.body);
      });

      /**
       * Moves a call on. `answered`: ongoing → ended after `durationMs`, with transcript,
       * recording, cost and analysis (call_started, call_ended, call_analyzed); `ongoing`: only
       * connected (call_started); `voicemail`: connected to a voicemail box, ended with
       * `voicemail_reached` and analysed `in_voicemail`; `no_answer`: not connected,
       * `dial_no_answer` unless `disconnectionReason` names another (call_ended).
       */
      app.post<{
        Params: { id: string };
        Body:
          | {
              outcome?: 'answered' | 'ongoing' | 'voicemail' | 'no_answer';
              durationMs?: number;
              transcript?: string;
              disconnectionReason?: string;
              analysis?: Json;
              url?: string;
              webhooks?: boolean;
            }
          | undefined;
      }>('/calls/:id/progress', async (request, reply) => {
        const call = calls.get(request.params.id);
        if (!call) return reply.code(404).send({ error: 'unknown call' });
        const input = request.body ?? {};
        const outcome = input.outcome ?? 'answered';
        if (!['answered', 'ongoing', 'voicemail', 'no_answer'].includes(outcome)) {
          return reply
            .code(400)
            .send({ error: 'outcome: answered | ongoing | voicemail | no_answer' });
        }
        if (call.body.call_status !== 'registered' && call.body.call_status !== 'ongoing') {
          return reply.code(409).send({ error: `call already ${call.body.call_status}` });
        }
        // Each event carries the call as it was when the event happened.
        const events: [string, Call['body']][] = [];
        const now = Date.now();
        if (outcome === 'no_answer') {
          Object.assign(call.body, {
            call_status: 'not_connected',
            start_timestamp: now,
            end_timestamp: now,
            duration_ms: 0,
            disconnection_reason: input.disconnectionReason ?? 'dial_no_answer',
            transcript: '',
            call_cost: cost(0),
          });
          events.push(['call_ended', structuredClone(call.body)]);
        } else {
          if (call.body.call_status === 'registered') {
            const durationMs = input.durationMs ?? 60_000;
            Object.assign(call.body, { call_status: 'ongoing', start_timestamp: now - durationMs });
            events.push(['call_started', structuredClone(call.body)]);
          }
          if (outcome === 'answered' || outcome === 'voicemail') {
            const start = call.body.start_timestamp as number;
            const end = now;
            const durationMs = end - start;
            const voicemail = outcome === 'voicemail';
            Object.assign(call.body, {
              call_status: 'ended',
              end_timestamp: end,
              duration_ms: durationMs,
              disconnection_reason:
                input.disconnectionReason ?? (voicemail ? 'voicemail_reached' : 'user_hangup'),
              transcript:
                input.transcript ??
                (voicemail
                  ? 'User: You have reached the voicemail of this number. Please leave a message.\n'
                  : 'Agent: Hi, thanks for calling. How can I help?\nUser: I would like to book an appointment.\n'),
              recording_url: `https://retell-sim.invalid/recordings/${call.body.call_id}.wav`,
              public_log_url: `https://retell-sim.invalid/logs/${call.body.call_id}.txt`,
              call_cost: cost(durationMs),
              call_analysis: {
                call_summary: voicemail
                  ? 'The call reached a voicemail box.'
                  : 'The caller asked to book an appointment.',
                in_voicemail: voicemail,
                user_sentiment: voicemail ? 'Neutral' : 'Positive',
                call_successful: !voicemail,
                custom_analysis_data: {},
                ...input.analysis,
              },
            });
            const snapshot = structuredClone(call.body);
            events.push(['call_ended', snapshot], ['call_analyzed', snapshot]);
          }
        }
        const webhooks: SentWebhook[] = [];
        if (input.webhooks !== false) {
          for (const [event, snapshot] of events) {
            webhooks.push(await sendEvent(context, call, event, input.url, snapshot));
          }
        }
        return { call: call.body, webhooks };
      });

      /** Sends (again) one event for a call: `{ event, url? }`. */
      app.post<{ Params: { id: string }; Body: { event?: string; url?: string } | undefined }>(
        '/calls/:id/webhooks',
        async (request, reply) => {
          const call = calls.get(request.params.id);
          if (!call) return reply.code(404).send({ error: 'unknown call' });
          const event = request.body?.event;
          if (!event || !['call_started', 'call_ended', 'call_analyzed'].includes(event)) {
            return reply
              .code(400)
              .send({ error: 'event: call_started | call_ended | call_analyzed' });
          }
          return sendEvent(context, call, event, request.body?.url);
        },
      );
      return Promise.resolve();
    },
  };
}

/** `call_cost` as the get-call reference shapes it: amounts in cents, per-second unit prices. */
function cost(durationMs: number): Json {
  const seconds = Math.ceil(durationMs / 1000);
  const billed = seconds === 0 ? 0 : Math.max(MIN_BILLED_SECONDS, seconds);
  const round = (n: number): number => Math.round(n * 10_000) / 10_000;
  const productCosts = RETELL_SIM_PRODUCTS.map((p) => ({
    product: p.product,
    unit_price: round(p.unit_price),
    cost: round(p.unit_price * billed),
  }));
  return {
    product_costs: productCosts,
    total_duration_seconds: seconds,
    total_duration_unit_price: round(RETELL_SIM_PRODUCTS.reduce((s, p) => s + p.unit_price, 0)),
    combined_cost: round(productCosts.reduce((s, p) => s + p.cost, 0)),
  };
}
