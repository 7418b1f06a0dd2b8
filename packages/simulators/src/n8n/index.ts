import { randomInt } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SimulatorContext, VendorSimulator } from '../server';
import { maxaiCallbackSignature } from './signature';

export { maxaiCallbackSignature } from './signature';

/**
 * A workflow behind a Webhook node. `respond`: answers the workflow's result ("Respond to
 * Webhook" / last node). `async`: acknowledges at once ("Respond: Immediately") and then posts
 * the result to the payload's `callbackUrl`, signed with our scheme, echoing the payload's
 * `correlationId` — what a workflow built to our callback contract does.
 */
export interface N8nWorkflowScript {
  path: string;
  /** Answer the caller with this JSON (and status), as a Respond to Webhook node would. */
  respond?: { status?: number; body: unknown };
  /**
   * Acknowledge, then call back with `{ correlationId, executionId, status, output | error }`.
   * `answerExecutionId`: the workflow starts with a Respond to Webhook node answering
   * `{ executionId }` (n8n's `{{ $execution.id }}`) instead of "Respond: Immediately".
   */
  async?: { output?: unknown; fail?: string; delayMs?: number; answerExecutionId?: boolean };
  /** n8n "Header Auth" credential on the Webhook node. */
  headerAuth?: { name: string; value: string };
  /** Shared secret the callback is signed with (the connection's). */
  callbackSecret?: string;
  /** Also listen on `/webhook-test/<path>` (the editor's "Listen for test event"). */
  test?: boolean;
}

interface Execution {
  id: string;
  path: string;
  test: boolean;
  payload: unknown;
  headers: Record<string, unknown>;
  callback?: { url: string; status: number | 'error' } | undefined;
}

/**
 * n8n's Webhook node (docs.n8n.io/integrations/builtin/core-nodes/n8n-nodes-base.webhook/):
 * production URL `/webhook/<path>`, test URL `/webhook-test/<path>`, Header Auth, and n8n's
 * answers — `{"message":"Workflow was started"}` for "Respond: Immediately", 404
 * `{"code":404,"message":"The requested webhook \"POST <path>\" is not registered.","hint":…}`
 * for unknown paths (*unverified* wording, from n8n's webhook-not-found error), and 403
 * "Authorization data is wrong!" (plain text) for a wrong or missing Header Auth value.
 */
export function n8nSimulator(): VendorSimulator {
  let workflows = new Map<string, N8nWorkflowScript>();
  let executions: Execution[] = [];
  const pending = new Set<ReturnType<typeof setTimeout>>();

  async function handle(
    ctx: SimulatorContext,
    request: FastifyRequest<{ Params: { '*': string } }>,
    reply: FastifyReply,
    test: boolean,
  ): Promise<FastifyReply> {
    const path = request.params['*'];
    const workflow = workflows.get(path);
    if (!workflow || (test && workflow.test !== true)) {
      return reply.code(404).send({
        code: 404,
        message: `The requested webhook "${request.method} ${path}" is not registered.`,
        hint: test
          ? "Click the 'Execute workflow' button on the canvas, then try again. (In test mode, the workflow only works for one call after you click this button)"
          : "The workflow must be active for a production URL to run successfully. You can activate the workflow using the toggle in the top-right of the editor. Note that unlike test URL calls, production URL calls aren't shown on the canvas (only in the executions list)",
      });
    }
    if (workflow.headerAuth) {
      const sent = request.headers[workflow.headerAuth.name.toLowerCase()];
      if (sent !== workflow.headerAuth.value) {
        // n8n-io/n8n packages/nodes-base/nodes/Webhook/Webhook.node.ts `authorizationError`:
        // a plain-text body and a WWW-Authenticate header.
        return reply
          .code(403)
          .header('www-authenticate', 'Basic realm="Webhook"')
          .type('text/plain')
          .send('Authorization data is wrong!');
      }
    }
    const execution: Execution = {
      id: String(randomInt(1000, 1_000_000)),
      path,
      test,
      payload: request.body,
      headers: workflow.headerAuth
        ? { ...request.headers, [workflow.headerAuth.name.toLowerCase()]: '[redacted]' }
        : { ...request.headers },
    };
    executions.push(execution);
    if (workflow.async) {
      const plan = workflow.async;
      const payload = (request.body ?? {}) as { callbackUrl?: unknown; correlationId?: unknown };
      const url = typeof payload.callbackUrl === 'string' ? payload.callbackUrl : undefined;
      if (url !== undefined) {
        const timer = setTimeout(() => {
          pending.delete(timer);
          // Echoed as received (absent stays absent: JSON.stringify drops undefined).
          const ids = { correlationId: payload.correlationId, executionId: execution.id };
          const body = JSON.stringify(
            plan.fail === undefined
              ? { ...ids, status: 'succeeded', output: plan.output ?? null }
              : { ...ids, status: 'failed', error: plan.fail },
          );
          const signature = maxaiCallbackSignature(
            body,
            workflow.callbackSecret ?? 'n8n-simulator-secret',
            Math.floor(Date.now() / 1000),
          );
          void ctx.webhooks
            .send('n8n', url, body, {
              'content-type': 'application/json',
              'x-maxai-signature': signature,
            })
            .then((sent) => {
              execution.callback = { url, status: sent.status };
            });
        }, plan.delayMs ?? 0);
        pending.add(timer);
      }
      return reply
        .code(200)
        .send(
          plan.answerExecutionId
            ? { executionId: execution.id }
            : { message: 'Workflow was started' },
        );
    }
    const respond = workflow.respond ?? { body: { message: 'Workflow was started' } };
    return reply.code(respond.status ?? 200).send(respond.body);
  }

  return {
    prefix: 'n8n',

    errorBody(status, message) {
      return { code: status, message };
    },

    api(app: FastifyInstance, ctx: SimulatorContext) {
      for (const method of ['POST', 'GET'] as const) {
        app.route<{ Params: { '*': string } }>({
          method,
          url: '/webhook/*',
          handler: (request, reply) => handle(ctx, request, reply, false),
        });
        app.route<{ Params: { '*': string } }>({
          method,
          url: '/webhook-test/*',
          handler: (request, reply) => handle(ctx, request, reply, true),
        });
      }
      return Promise.resolve();
    },

    control(app: FastifyInstance) {
      app.post<{ Body: N8nWorkflowScript }>('/workflows', async (request, reply) => {
        const workflow = { ...request.body, path: request.body.path.replace(/^\//, '') };
        workflows.set(workflow.path, workflow);
        return reply.code(201).send({ path: workflow.path, test: workflow.test === true });
      });
      app.get('/executions', () => executions);
      return Promise.resolve();
    },

    reset() {
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
      workflows = new Map();
      executions = [];
    },
  };
}
