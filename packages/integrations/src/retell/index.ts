export * from './signature';
export * from './voice';
