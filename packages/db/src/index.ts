export * from './client';
export * from './migrate';
export * from './rows';
export * from './schema';
export * from './tenancy';
