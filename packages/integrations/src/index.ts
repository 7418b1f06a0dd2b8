export * from './http';
export * from './oauth';
