export * from './signature';
export * from './voice';
export * from './webhook';
