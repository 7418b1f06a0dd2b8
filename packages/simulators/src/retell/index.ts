export * from './signature';
export * from './simulator';
