import type { CallOptions, PortResult } from './provider';

export interface WorkflowTrigger {
  /** The workflow's webhook path (`/webhook/<path>`), as configured in n8n. */
  webhookPath: string;
  payload: Record<string, unknown>;
  /**
   * `sync`: n8n answers the workflow's result (Respond to Webhook / last node).
   * `async`: n8n acknowledges at once and later posts the result to `callbackUrl`, signed,
   * echoing `correlationId` — the caller's name for this delegation, since n8n's immediate
   * answer carries no execution id to wait for.
   */
  mode: 'sync' | 'async';
  callbackUrl?: string | undefined;
  /** Unique per delegation; required with `async`. */
  correlationId?: string | undefined;
}

export interface WorkflowRun {
  status: 'succeeded' | 'accepted' | 'failed';
  executionId?: string | undefined;
  output?: unknown;
}

/** Delegation of complex flows to n8n. */
export interface WorkflowDelegatePort {
  trigger(input: WorkflowTrigger, options?: CallOptions): Promise<PortResult<WorkflowRun>>;
}
