export * from './faults';
export * from './server';
export * from './webhooks';
export { allVendorSimulators } from './vendors';
export * from './stripe';
export * from './openrouter';
export * from './n8n';
