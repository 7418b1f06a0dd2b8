import type { CallOptions, PortResult } from './provider';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface CompletionInput {
  /** Provider model id, e.g. `openai/gpt-4o-mini`. */
  model: string;
  messages: ChatMessage[];
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  /** Ask for JSON matching this schema (structured output). */
  jsonSchema?: { name: string; schema: Record<string, unknown>; strict?: boolean } | undefined;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface Completion {
  /** The provider's generation id. */
  id: string;
  text: string;
  /** The model that answered (a router may pick another than asked). */
  model: string;
  finishReason: 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'error' | 'unknown';
  /** Parsed `text` when a JSON schema was asked for. */
  json?: unknown;
  tokens: TokenUsage;
}

/** A chat-completion LLM (OpenRouter). `usage` carries tokens and the provider's cost. */
export interface LlmPort {
  complete(input: CompletionInput, options?: CallOptions): Promise<PortResult<Completion>>;
}
