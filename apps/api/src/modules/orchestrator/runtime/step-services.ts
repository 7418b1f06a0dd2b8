import type { ChatMessage } from '@maxai/core';
import type { PortName } from '../definition/flow-types';
import type { FlowPorts } from '../definition/step-spec';

/** A rendered prompt, as the prompt service resolves it for (tenant, client, key, label|version). */
export interface RenderedPrompt {
  versionId: string;
  text?: string | undefined;
  messages?: ChatMessage[] | undefined;
  model?: string | undefined;
  temperature?: number | undefined;
  maxTokens?: number | undefined;
}

export interface PromptRenderer {
  render(
    tenantId: string,
    request: {
      clientId?: string | undefined;
      agentId?: string | undefined;
      key: string;
      label?: string | undefined;
      version?: number | undefined;
      variables: Record<string, unknown>;
    },
  ): Promise<RenderedPrompt>;
}

export interface RunScope {
  tenantId: string;
  clientId?: string | undefined;
  agentId?: string | undefined;
}

/** The adapter bound for a port at a run's scope, with the connection behind it. */
export interface BoundPort {
  connectionId: string;
  provider: string;
}

/** What steps need from the rest of the platform (ports, prompts, allowlists, n8n callbacks). */
export interface StepServices {
  /** The adapters of the ports the step needs, and which connection each is. */
  ports(scope: RunScope, needed: PortName[]): Promise<{ ports: FlowPorts; bound: BoundPort[] }>;
  prompts: PromptRenderer;
  /** Hosts `http.request` may reach for this tenant. */
  httpAllowlist(tenantId: string): Promise<string[]>;
  /** Where n8n should post its signed callback for this tenant, if an endpoint exists. */
  n8nCallbackUrl(tenantId: string): Promise<string | undefined>;
  /** An `auth` failure: the connection needs the user to connect it again. */
  connectionRefused(tenantId: string, connectionId: string, reason: string): Promise<void>;
}
