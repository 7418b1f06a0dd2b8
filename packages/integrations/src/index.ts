export * from './http';
export * from './oauth';
export * from './twilio';
export * from './retell';
