export * from './call-status';
export * from './signature';
export * from './simulator';
