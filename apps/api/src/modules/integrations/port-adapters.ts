import type {
  CalendarPort,
  CrmPort,
  LlmPort,
  MessagingPort,
  PaymentGatewayPort,
  VoicePort,
  WorkflowDelegatePort,
} from '@maxai/core';
import type { PortName } from '@maxai/db';
import {
  GhlCalendar,
  GhlCrm,
  GhlMessaging,
  GoogleCalendar,
  N8nWorkflows,
  OpenRouterLlm,
  RetellVoice,
  StripePayments,
  TwilioMessaging,
  type AccessTokenSource,
} from '@maxai/integrations';
import { ProblemError } from '../../platform/errors/problem';
import type { BindingScope, BindingsService } from './bindings.service';
import type { ConnectionsService, LiveCredentials } from './connections.service';
import { baseUrlOf } from './providers';

export interface PortAdapters {
  crm: CrmPort;
  calendar: CalendarPort;
  voice: VoicePort;
  messaging: MessagingPort;
  llm: LlmPort;
  payments: PaymentGatewayPort;
  workflow: WorkflowDelegatePort;
}

/**
 * Builds the adapter serving a port for a tenant, client or agent: resolves the binding, opens
 * the connection's credentials and constructs a fresh adapter for that connection alone (never a
 * shared instance). OAuth adapters get a token source that asks the connections service each
 * time, so a refreshed token is picked up mid-flow.
 */
export class PortAdapterFactory {
  constructor(
    private readonly connections: ConnectionsService,
    private readonly bindings: BindingsService,
    private readonly mode: { providers: 'sandbox' | 'live'; simulatorsUrl: string },
  ) {}

  async forScope<P extends PortName>(
    tenantId: string,
    port: P,
    scope: BindingScope,
  ): Promise<PortAdapters[P]> {
    const binding = await this.bindings.resolve(tenantId, port, scope);
    if (!binding) {
      throw new ProblemError(
        'unprocessable-content',
        `No connection is bound to the ${port} port.`,
      );
    }
    return this.forConnection(tenantId, binding.connectionId, port);
  }

  async forConnection<P extends PortName>(
    tenantId: string,
    connectionId: string,
    port: P,
  ): Promise<PortAdapters[P]> {
    const live = await this.connections.credentials(tenantId, connectionId);
    if (!live.spec.ports.includes(port)) {
      throw new ProblemError(
        'unprocessable-content',
        `A ${live.spec.name} connection cannot serve the ${port} port.`,
      );
    }
    return this.build(live, port) as PortAdapters[P];
  }

  private build(live: LiveCredentials, port: PortName): PortAdapters[PortName] {
    const { connection, secrets } = live;
    const baseUrl = baseUrlOf(live.spec, this.mode, connection.attributes);
    const accessToken: AccessTokenSource = async () =>
      (await this.connections.credentials(connection.tenantId, connection.id)).secrets
        .accessToken ?? '';
    const secret = (name: string) => secrets[name] ?? '';
    switch (live.spec.name) {
      case 'gohighlevel': {
        const options = {
          baseUrl,
          accessToken,
          locationId: connection.attributes.locationId ?? '',
        };
        if (port === 'crm') return new GhlCrm(options);
        if (port === 'calendar') return new GhlCalendar(options);
        return new GhlMessaging(options);
      }
      case 'google':
        return new GoogleCalendar({ baseUrl, accessToken });
      case 'twilio':
        return new TwilioMessaging({
          accountSid: secret('accountSid'),
          authToken: secret('authToken'),
          baseUrl,
        });
      case 'retell':
        return new RetellVoice({ apiKey: secret('apiKey'), baseUrl });
      case 'openrouter':
        return new OpenRouterLlm({ apiKey: secret('apiKey'), baseUrl: `${baseUrl}/api/v1` });
      case 'stripe':
        return new StripePayments({ secretKey: secret('secretKey'), baseUrl });
      case 'n8n':
        return new N8nWorkflows({
          baseUrl,
          headerAuth: { name: secret('headerName'), value: secret('headerValue') },
        });
    }
  }
}
