export * from './jobs';
export * from './email';
