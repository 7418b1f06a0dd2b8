import { ProviderError, type WorkflowDelegatePort } from '@maxai/core';
import { describe, expect, it } from 'vitest';

export interface WorkflowCallback {
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface WorkflowContractSetup {
  workflows: WorkflowDelegatePort;
  /** A workflow at `path` that answers `output` synchronously. */
  registerSync: (path: string, output: unknown) => Promise<void>;
  /** A workflow at `path` that acknowledges and later calls back with `output`. */
  registerAsync: (path: string, output: unknown) => Promise<void>;
  /** Where async workflows call back (a receiver the setup runs). */
  callbackUrl: string;
  /** The next callback the receiver gets. */
  nextCallback: () => Promise<WorkflowCallback>;
  /** Checks a callback's signature as the platform's receiver will. */
  verify: (callback: WorkflowCallback) => boolean;
}

/**
 * What every WorkflowDelegatePort adapter must do: a sync run answers the workflow's output; an
 * async run is accepted and its result arrives later at the callback URL, signed and naming the
 * caller's correlation id; an async run without a callback URL or a correlation id is refused;
 * an unknown workflow is not_found.
 */
export function runWorkflowContract(
  label: string,
  setup: () => WorkflowContractSetup | Promise<WorkflowContractSetup>,
): void {
  describe(`WorkflowDelegatePort contract: ${label}`, () => {
    it('runs a sync workflow and answers its output', async () => {
      const { workflows, registerSync } = await setup();
      await registerSync('enrich-lead', { score: 87, tags: ['hot'] });
      const { data } = await workflows.trigger({
        webhookPath: '/enrich-lead',
        payload: { leadId: 'l1' },
        mode: 'sync',
      });
      expect(data).toMatchObject({ status: 'succeeded', output: { score: 87, tags: ['hot'] } });
    });

    it('accepts an async workflow, whose signed result arrives at the callback URL', async () => {
      const { workflows, registerAsync, callbackUrl, nextCallback, verify } = await setup();
      await registerAsync('long-job', { done: true });
      const pending = nextCallback();
      const { data } = await workflows.trigger(
        {
          webhookPath: 'long-job',
          payload: { leadId: 'l2' },
          mode: 'async',
          callbackUrl,
          correlationId: 'run-l2:delegate:g0:s1',
        },
        { idempotencyKey: 'run-l2' },
      );
      expect(data.status).toBe('accepted');
      const callback = await pending;
      expect(verify(callback)).toBe(true);
      expect(verify({ ...callback, body: callback.body.replace('true', 'false') })).toBe(false);
      expect(JSON.parse(callback.body)).toMatchObject({
        correlationId: 'run-l2:delegate:g0:s1',
        status: 'succeeded',
        output: { done: true },
      });
    });

    it('refuses an async run without a callback URL or a correlation id', async () => {
      const { workflows, callbackUrl } = await setup();
      for (const missing of [{ correlationId: 'c' }, { callbackUrl }]) {
        const error = await workflows
          .trigger({ webhookPath: 'long-job', payload: {}, mode: 'async', ...missing })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ProviderError);
        expect(error).toMatchObject({ kind: 'invalid' });
      }
    });

    it('answers not_found for a workflow that is not registered', async () => {
      const { workflows } = await setup();
      await expect(
        workflows.trigger({ webhookPath: 'nobody-home', payload: {}, mode: 'sync' }),
      ).rejects.toMatchObject({ kind: 'not_found', status: 404 });
    });
  });
}
