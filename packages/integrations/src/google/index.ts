export * from './google-calendar';
export * from './google-oauth';
