import type { CallOptions, PortResult } from './provider';

/**
 * Payments with PCI SAQ-A posture: card details are only ever entered on the provider's hosted
 * pages; these types carry ids and amounts, never card data.
 */
export interface PaymentCustomer {
  id: string;
  email?: string | undefined;
  name?: string | undefined;
}

export interface HostedSession {
  id: string;
  /** The provider-hosted page to send the payer to. */
  url: string;
  expiresAt?: string | undefined;
}

export type PaymentStatus =
  'pending' | 'requires_action' | 'succeeded' | 'failed' | 'refunded' | 'partially_refunded';

export interface Payment {
  id: string;
  status: PaymentStatus;
  /** Minor units (cents). */
  amountMinor: number;
  /** ISO 4217, lower case (`usd`). */
  currency: string;
  refundedMinor: number;
  customerId?: string | undefined;
  failureCode?: string | undefined;
}

export interface PaymentGatewayPort {
  createCustomer(
    input: { email?: string; name?: string; metadata?: Record<string, string> },
    options?: CallOptions,
  ): Promise<PortResult<PaymentCustomer>>;
  /** A hosted page where the customer saves a payment method for later charges. */
  createSetupSession(
    input: { customerId: string; successUrl: string; cancelUrl: string },
    options?: CallOptions,
  ): Promise<PortResult<HostedSession>>;
  /** A hosted page that takes one payment. */
  createCheckoutSession(
    input: {
      customerId?: string;
      amountMinor: number;
      currency: string;
      description: string;
      successUrl: string;
      cancelUrl: string;
    },
    options?: CallOptions,
  ): Promise<PortResult<HostedSession>>;
  /** Charges the customer's saved default payment method (off-session), e.g. for an invoice. */
  charge(
    input: {
      customerId: string;
      amountMinor: number;
      currency: string;
      description: string;
      metadata?: Record<string, string>;
    },
    options?: CallOptions,
  ): Promise<PortResult<Payment>>;
  refund(
    input: { paymentId: string; amountMinor?: number },
    options?: CallOptions,
  ): Promise<PortResult<Payment>>;
  getPayment(paymentId: string, options?: CallOptions): Promise<PortResult<Payment>>;
}
