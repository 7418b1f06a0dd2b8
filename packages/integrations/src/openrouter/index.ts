export * from './openrouter-llm';
