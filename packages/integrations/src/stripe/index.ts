export * from './stripe-payments';
export * from './webhook';
export * from './webhook-signature';
