export * from './messaging';
export * from './signature';
