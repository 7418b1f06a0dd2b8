export * from './stripe-payments';
