export * from './ghl-http';
export * from './ghl-crm';
export * from './ghl-calendar';
export * from './ghl-messaging';
export * from './ghl-oauth';
export * from './webhook';
export * from './ghl-webhook-signature';
