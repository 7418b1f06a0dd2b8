export * from './faults';
export * from './server';
export * from './webhooks';
export { allVendorSimulators } from './vendors';
export * from './twilio';
export * from './retell';
