import type { CallOptions, PortResult } from './provider';

export interface VoiceAgentInput {
  name: string;
  /** The system prompt the agent speaks from. */
  prompt: string;
  voiceId: string;
  /** Where the provider sends this agent's call events. */
  webhookUrl?: string | undefined;
  language?: string | undefined;
  /** Opening line; absent → the agent waits for the caller. */
  beginMessage?: string | undefined;
}

export interface VoiceAgent {
  id: string;
  name: string;
  voiceId: string;
  webhookUrl?: string | undefined;
}

export interface OutboundCallInput {
  agentId: string;
  /** E.164 numbers. */
  fromNumber: string;
  toNumber: string;
  metadata?: Record<string, string> | undefined;
  /** Values the agent's prompt refers to (`{{customer_name}}`). */
  dynamicVariables?: Record<string, string> | undefined;
}

export type CallStatus = 'registered' | 'ongoing' | 'ended' | 'error' | 'not_connected';

export interface CallAnalysis {
  summary?: string | undefined;
  sentiment?: 'positive' | 'neutral' | 'negative' | 'unknown' | undefined;
  successful?: boolean | undefined;
  custom?: Record<string, unknown> | undefined;
}

export interface VoiceCall {
  id: string;
  agentId: string;
  status: CallStatus;
  direction: 'inbound' | 'outbound';
  fromNumber?: string | undefined;
  toNumber?: string | undefined;
  startedAt?: string | undefined;
  endedAt?: string | undefined;
  durationMs?: number | undefined;
  transcript?: string | undefined;
  recordingUrl?: string | undefined;
  disconnectionReason?: string | undefined;
  analysis?: CallAnalysis | undefined;
}

/** A voice-AI provider: agents that talk on the phone (Retell AI). */
export interface VoicePort {
  createAgent(input: VoiceAgentInput, options?: CallOptions): Promise<PortResult<VoiceAgent>>;
  updateAgent(
    agentId: string,
    patch: Partial<VoiceAgentInput>,
    options?: CallOptions,
  ): Promise<PortResult<VoiceAgent>>;
  startCall(input: OutboundCallInput, options?: CallOptions): Promise<PortResult<VoiceCall>>;
  /** With `usage` once the call has ended (minutes, provider cost). */
  getCall(callId: string, options?: CallOptions): Promise<PortResult<VoiceCall>>;
}
