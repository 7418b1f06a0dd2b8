export * from './http';
export * from './oauth';
export * from './gohighlevel';
export * from './google';
export * from './stripe';
export * from './openrouter';
export * from './n8n';
