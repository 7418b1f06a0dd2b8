export * from './faults';
export * from './server';
export * from './webhooks';
export { allVendorSimulators } from './vendors';
export * from './gohighlevel/ghl.simulator';
export * from './gohighlevel/ghl-signatures';
export * from './google/google.simulator';
