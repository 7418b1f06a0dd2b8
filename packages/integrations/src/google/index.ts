export * from './google-calendar';
export * from './google-oauth';
export * from './webhook';
