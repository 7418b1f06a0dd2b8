export * from './messaging';
export * from './signature';
export * from './webhook';
