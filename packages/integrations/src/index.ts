export * from './http';
export * from './oauth';
export * from './gohighlevel';
export * from './google';
