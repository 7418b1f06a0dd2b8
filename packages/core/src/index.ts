export * from './jobs';
export * from './email';
export * from './ports';
