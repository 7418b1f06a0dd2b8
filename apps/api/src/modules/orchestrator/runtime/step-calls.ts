import { ProviderError, type PortResult, type ProviderUsage } from '@maxai/core';
import { withTenant, type Database } from '@maxai/db';
import { hostAllowed } from '../definition/flow-facts';
import type { FlowStep, N8nDelegateStep } from '../definition/flow-types';
import { present } from '../definition/present';
import type { StepPlan } from '../definition/step-plan';
import type { ConnectionBudget } from './connection-budget';
import type { RunRow, RunsRepository } from './runs.repository';
import type { StepServices } from './step-services';

export interface UsageRow {
  kind: 'llm_tokens' | 'sms_segments' | 'call_seconds' | 'provider_call';
  provider: string;
  operation: string;
  quantity: number;
  costMicros: number | null;
  reference: string | null;
}

interface CallDone {
  kind: 'done';
  input: Record<string, unknown>;
  output: unknown;
  idempotencyKey: string | null;
  promptVersionId: string | null;
  usage: UsageRow[];
}

export type CallResult =
  | CallDone
  /** The connection's budget is spent: run again after `waitMs`, without counting an attempt. */
  | { kind: 'throttled'; waitMs: number }
  /** Waiting for an event (n8n's callback); `call` is what starting the wait did. */
  | { kind: 'waiting'; event: string; key: unknown; timeoutSeconds: number; call: CallDone };

export interface CallContext {
  db: Database;
  repository: RunsRepository;
  services: StepServices;
  budget: ConnectionBudget;
  run: RunRow;
  step: FlowStep;
  plan: Extract<StepPlan, { action: 'call' }>;
  idempotencyKey: string;
  timeoutMs: number;
}

/** A failure no retry can fix (not a provider's): the step fails at once. */
export class PermanentStepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentStepError';
  }
}

export const N8N_CALLBACK_EVENT = 'maxai.workflow.callback.received';

/** Executes a planned call step: a port method, a pure computation, or a runtime step. */
export async function executeCall(ctx: CallContext): Promise<CallResult> {
  const { spec } = ctx.plan;
  if (spec.execution === 'pure') {
    return done(ctx, spec.compute?.(ctx.plan.input), null, null, []);
  }
  switch (ctx.step.type) {
    case 'llm.generate':
      return llmGenerate(ctx);
    case 'http.request':
      return httpRequest(ctx);
    case 'n8n.delegate':
      return n8nDelegate(ctx, ctx.step);
    default:
      return portCall(ctx);
  }
}

function done(
  ctx: CallContext,
  output: unknown,
  idempotencyKey: string | null,
  promptVersionId: string | null,
  usage: UsageRow[],
): CallDone {
  return { kind: 'done', input: ctx.plan.inputs, output, idempotencyKey, promptVersionId, usage };
}

const scopeOf = (run: RunRow) => ({
  tenantId: run.tenantId,
  clientId: run.clientId ?? undefined,
  agentId: run.agentId ?? undefined,
});

/** Calls a port through the run's binding, within the connection's budget and the step's time. */
async function portCall(ctx: CallContext): Promise<CallResult> {
  // Every port step of the catalogue names its port and has an invoke.
  const port = present(ctx.plan.spec.port, `the port of ${ctx.step.type}`);
  const invoke = present(ctx.plan.spec.invoke, `the invoke of ${ctx.step.type}`);
  const { ports, bound } = await ctx.services.ports(scopeOf(ctx.run), [port]);
  const waitMs = await budgetWait(ctx, bound);
  if (waitMs !== null) return { kind: 'throttled', waitMs };
  const call = (options: { idempotencyKey?: string; signal: AbortSignal }) =>
    invoke(ports, ctx.plan.input, options);
  return refusing(ctx, bound, async () => {
    if (!ctx.plan.spec.sideEffecting) {
      const result = await withTimeout(ctx.timeoutMs, (signal) => call({ signal }));
      return done(ctx, result.data, null, null, usageOf(result));
    }
    return once(ctx, async () => {
      const result = await withTimeout(ctx.timeoutMs, (signal) =>
        call({ idempotencyKey: ctx.idempotencyKey, signal }),
      );
      return { output: result.data, usage: usageOf(result) };
    });
  });
}

/** How long a call must wait because a connection it goes through spent its budget; null: go. */
async function budgetWait(
  ctx: CallContext,
  bound: { connectionId: string }[],
): Promise<number | null> {
  for (const connection of bound) {
    const waitMs = await ctx.budget.take(connection.connectionId);
    if (waitMs !== null) return waitMs;
  }
  return null;
}

/** An `auth` failure marks the connections the call went through (they need re-authorizing). */
async function refusing<T>(
  ctx: CallContext,
  bound: { connectionId: string }[],
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ProviderError && error.kind === 'auth') {
      for (const connection of bound) {
        await ctx.services.connectionRefused(
          ctx.run.tenantId,
          connection.connectionId,
          error.message,
        );
      }
    }
    throw error;
  }
}

/**
 * At most once for a side effect: the intent is committed before the call, the result after. A
 * retry finding the result reuses it; one finding only the intent (a crash between the provider
 * accepting and us recording) does not call again and reports the step as in doubt.
 */
async function once(
  ctx: CallContext,
  effect: () => Promise<{ output: unknown; usage: UsageRow[] }>,
): Promise<CallDone> {
  const { run, step, idempotencyKey } = ctx;
  const earlier = await withTenant(ctx.db, run.tenantId, (tx) =>
    ctx.repository.beginSideEffect(tx, run.tenantId, idempotencyKey, run.id, step.id),
  );
  if (earlier?.state === 'done') return done(ctx, earlier.result, idempotencyKey, null, []);
  if (earlier?.state === 'pending') {
    return done(ctx, { inDoubt: true }, idempotencyKey, null, []);
  }
  let result: { output: unknown; usage: UsageRow[] };
  try {
    result = await effect();
  } catch (error) {
    // The provider answered with an error: nothing was sent, a retry may send it. (A timeout
    // or a dropped connection leaves the intent: in doubt, it is not sent again.)
    if (
      error instanceof ProviderError &&
      (error.status !== undefined || error.kind !== 'transient')
    ) {
      await withTenant(ctx.db, run.tenantId, (tx) =>
        ctx.repository.forgetSideEffect(tx, run.tenantId, idempotencyKey),
      );
    }
    throw error;
  }
  await withTenant(ctx.db, run.tenantId, (tx) =>
    ctx.repository.finishSideEffect(tx, run.tenantId, idempotencyKey, result.output),
  );
  return done(ctx, result.output, idempotencyKey, null, result.usage);
}

interface LlmInput {
  prompt: { key: string; label?: string; version?: number };
  variables: Record<string, unknown>;
  model?: { id?: string; temperature?: number; maxTokens?: number };
}

async function llmGenerate(ctx: CallContext): Promise<CallResult> {
  const input = ctx.plan.input as LlmInput;
  const rendered = await ctx.services.prompts.render(ctx.run.tenantId, {
    clientId: ctx.run.clientId ?? undefined,
    agentId: ctx.run.agentId ?? undefined,
    key: input.prompt.key,
    label: input.prompt.label,
    version: input.prompt.version,
    variables: input.variables,
  });
  const { ports, bound } = await ctx.services.ports(scopeOf(ctx.run), ['llm']);
  const waitMs = await budgetWait(ctx, bound);
  if (waitMs !== null) return { kind: 'throttled', waitMs };
  // ports() answers every port asked for, or throws.
  const llm = present(ports.llm, 'the llm adapter');
  // A chat prompt renders messages, a text prompt its text.
  const messages = rendered.messages ?? [
    { role: 'user' as const, content: present(rendered.text, 'the rendered text') },
  ];
  const model = input.model?.id ?? rendered.model;
  if (!model) throw new PermanentStepError('the prompt names no model and the step gives none');
  const result = await refusing(ctx, bound, () =>
    withTimeout(ctx.timeoutMs, (signal) =>
      llm.complete(
        {
          model,
          messages,
          temperature: input.model?.temperature ?? rendered.temperature,
          maxTokens: input.model?.maxTokens ?? rendered.maxTokens,
        },
        { signal },
      ),
    ),
  );
  return done(
    ctx,
    {
      text: result.data.text,
      model: result.data.model,
      prompt: { ...input.prompt, versionId: rendered.versionId },
      finishReason: result.data.finishReason,
      tokens: result.data.tokens,
    },
    null,
    rendered.versionId,
    usageOf(result),
  );
}

interface HttpInput {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

async function httpRequest(ctx: CallContext): Promise<CallResult> {
  const input = ctx.plan.input as HttpInput;
  const host = new URL(input.url).hostname;
  const allowlist = await ctx.services.httpAllowlist(ctx.run.tenantId);
  if (!hostAllowed(host, allowlist)) {
    throw new PermanentStepError(`${host} is not on this organization's HTTP allowlist`);
  }
  return once(ctx, async () => {
    const res = await withTimeout(ctx.timeoutMs, (signal) =>
      fetch(input.url, {
        method: input.method,
        headers: {
          ...(input.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...input.headers,
          'idempotency-key': ctx.idempotencyKey,
        },
        ...(input.body === undefined ? {} : { body: JSON.stringify(input.body) }),
        redirect: 'manual',
        signal,
      }),
    );
    const text = await res.text();
    if (res.status >= 500 || res.status === 429) {
      throw new ProviderError({
        kind: res.status === 429 ? 'rate_limited' : 'transient',
        provider: 'n8n',
        status: res.status,
        message: `${input.method} ${host} answered ${String(res.status)}`,
      });
    }
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return {
      output: { status: res.status, headers: Object.fromEntries(res.headers), body },
      usage: [],
    };
  });
}

interface N8nInput {
  workflow: string;
  mode: 'sync' | 'callback';
  payload: Record<string, unknown>;
}

async function n8nDelegate(ctx: CallContext, step: N8nDelegateStep): Promise<CallResult> {
  const input = ctx.plan.input as N8nInput;
  const callbackUrl =
    input.mode === 'callback' ? await ctx.services.n8nCallbackUrl(ctx.run.tenantId) : undefined;
  if (input.mode === 'callback' && !callbackUrl) {
    throw new PermanentStepError(
      'n8n callbacks need an n8n webhook endpoint (POST /v1/tenants/{tenantId}/webhook-endpoints)',
    );
  }
  // The callback is matched by a name of ours, not n8n's execution id: "Respond: Immediately"
  // answers none. The idempotency key is unique per delegation and the same for every retry of
  // it, so a retry that finds the trigger already sent (or in doubt) waits for the same callback.
  const correlationId = input.mode === 'callback' ? ctx.idempotencyKey : undefined;
  const { ports, bound } = await ctx.services.ports(scopeOf(ctx.run), ['workflow']);
  const workflow = present(ports.workflow, 'the workflow adapter');
  const result = await refusing(ctx, bound, () =>
    once(ctx, async () => {
      const res = await withTimeout(ctx.timeoutMs, (signal) =>
        workflow.trigger(
          {
            webhookPath: input.workflow,
            payload: { ...input.payload, maxaiRunId: ctx.run.id },
            mode: input.mode === 'sync' ? 'sync' : 'async',
            callbackUrl,
            correlationId,
          },
          { idempotencyKey: ctx.idempotencyKey, signal },
        ),
      );
      return { output: res.data, usage: usageOf(res) };
    }),
  );
  if (input.mode === 'sync') return result;
  const timeoutSeconds = step.timeoutSeconds ?? 3600;
  return {
    kind: 'waiting',
    event: N8N_CALLBACK_EVENT,
    key: correlationId,
    timeoutSeconds,
    call: result,
  };
}

/** Races `work` against the step's time limit; the signal tells the adapter to give up too. */
async function withTimeout<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(
        new ProviderError({
          kind: 'transient',
          provider: 'n8n',
          message: `the step took longer than ${String(ms / 1000)} s`,
        }),
      );
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const KIND_BY_OPERATION: Record<string, UsageRow['kind']> = {
  'llm.complete': 'llm_tokens',
  'messaging.send_sms': 'sms_segments',
};

/** A provider's usage report as usage rows (tokens, segments, seconds; cost in micro-dollars). */
export function usageOf(result: PortResult<unknown>): UsageRow[] {
  const usage: ProviderUsage | undefined = result.usage;
  if (!usage) return [];
  const kind =
    KIND_BY_OPERATION[usage.operation] ??
    (usage.operation.startsWith('voice.') ? 'call_seconds' : 'provider_call');
  // Tokens are billed as prompt + completion; the other units are single.
  const tokens = usage.units
    .filter((u) => u.name.endsWith('_tokens'))
    .reduce((sum, u) => sum + u.quantity, 0);
  const main = usage.units[0];
  return [
    {
      kind,
      provider: usage.provider,
      operation: usage.operation,
      quantity: Math.round(kind === 'llm_tokens' ? tokens : (main?.quantity ?? 1)),
      costMicros: usage.costUsd === undefined ? null : Math.round(usage.costUsd * 1_000_000),
      reference: usage.reference ?? null,
    },
  ];
}
