import {
  ProviderError,
  type CallOptions,
  type PortResult,
  type WorkflowDelegatePort,
  type WorkflowRun,
  type WorkflowTrigger,
} from '@maxai/core';
import { ProviderHttp } from '../http';

export interface N8nWorkflowsOptions {
  /** The n8n instance, e.g. `https://acme.app.n8n.cloud`; the simulator's `<base>/n8n`. */
  baseUrl: string;
  /** The Webhook node's "Header Auth" credential (docs.n8n.io webhook node, Authentication). */
  headerAuth?: { name: string; value: string } | undefined;
  /** Call `/webhook-test/<path>` (a workflow open in the editor) instead of `/webhook/<path>`. */
  testMode?: boolean | undefined;
  timeoutMs?: number | undefined;
  maxRetries?: number | undefined;
  retryBaseMs?: number | undefined;
  maxRetryAfterMs?: number | undefined;
  fetch?: typeof fetch | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

/**
 * WorkflowDelegatePort on n8n's Webhook node. `sync`: the workflow's answer is the output.
 * `async`: n8n acknowledges (`{"message":"Workflow was started"}`, no execution id) and later
 * POSTs `{ correlationId, executionId?, status, output | error }` to the `callbackUrl` we add to
 * the payload next to the `correlationId` it must echo, signed with `x-maxai-signature` (see
 * `verifyN8nCallback`). A POST is retried after a transient failure only with an idempotency key
 * (sent as `Idempotency-Key`, for the workflow to dedupe).
 */
export class N8nWorkflows implements WorkflowDelegatePort {
  private readonly http: ProviderHttp;

  constructor(private readonly options: N8nWorkflowsOptions) {
    const auth = options.headerAuth;
    this.http = new ProviderHttp({
      provider: 'n8n',
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs ?? 30_000,
      maxRetries: options.maxRetries,
      retryBaseMs: options.retryBaseMs,
      maxRetryAfterMs: options.maxRetryAfterMs,
      headers: () => (auth ? { [auth.name]: auth.value } : {}),
      describeError,
      fetch: options.fetch,
      sleep: options.sleep,
    });
  }

  async trigger(input: WorkflowTrigger, options?: CallOptions): Promise<PortResult<WorkflowRun>> {
    if (input.mode === 'async' && (!input.callbackUrl || !input.correlationId)) {
      throw new ProviderError({
        kind: 'invalid',
        provider: 'n8n',
        message: 'an async n8n workflow needs a callbackUrl and a correlationId',
      });
    }
    const path = input.webhookPath.replace(/^\/+/, '');
    const root = this.options.testMode ? 'webhook-test' : 'webhook';
    const response = await this.http.request<unknown>('POST', `${root}/${path}`, {
      json:
        input.mode === 'async'
          ? { ...input.payload, callbackUrl: input.callbackUrl, correlationId: input.correlationId }
          : input.payload,
      idempotencyKey: options?.idempotencyKey,
      signal: options?.signal,
    });
    const body = response.body;
    const executionId = executionIdOf(body);
    const run: WorkflowRun =
      input.mode === 'async'
        ? { status: 'accepted', executionId }
        : { status: 'succeeded', executionId, output: body };
    return {
      data: run,
      usage: {
        provider: 'n8n',
        operation: 'workflow.trigger',
        units: [{ name: 'execution', quantity: 1 }],
        reference: executionId,
      },
    };
  }
}

function executionIdOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const id = (body as { executionId?: unknown }).executionId;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/** n8n's webhook errors: `{ code, message, hint? }`. */
function describeError(body: unknown): { code?: string; message?: string } {
  if (typeof body === 'string') return { message: body.slice(0, 200) };
  if (typeof body !== 'object' || body === null) return {};
  const { code, message } = body as { code?: unknown; message?: unknown };
  return {
    code: typeof code === 'number' || typeof code === 'string' ? String(code) : undefined,
    message: typeof message === 'string' ? message : undefined,
  };
}
