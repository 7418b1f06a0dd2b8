export * from './n8n-workflows';
export * from './callback-signature';
export * from './webhook';
