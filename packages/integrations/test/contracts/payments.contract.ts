import { ProviderError, type PaymentGatewayPort } from '@maxai/core';
import { describe, expect, it } from 'vitest';

export interface PaymentsContractSetup {
  gateway: PaymentGatewayPort;
  /** Saves a card on the customer (as the hosted setup page would) that succeeds or declines. */
  saveCard: (customerId: string, outcome: 'succeeds' | 'declines') => Promise<void>;
  /** A payment id the provider does not know. */
  unknownPaymentId: string;
}

/**
 * What every PaymentGatewayPort adapter must do, whatever the provider: customers, hosted setup
 * and checkout pages (PCI SAQ-A: no card data crosses our types), off-session charges of the
 * saved card with usage, idempotent retries, declines as `invalid`/`card_declined`, refunds.
 */
export function runPaymentsContract(
  label: string,
  setup: () => PaymentsContractSetup | Promise<PaymentsContractSetup>,
): void {
  describe(`PaymentGatewayPort contract: ${label}`, () => {
    const ok = { successUrl: 'https://app.test/ok', cancelUrl: 'https://app.test/cancel' };

    it('creates a customer', async () => {
      const { gateway } = await setup();
      const { data } = await gateway.createCustomer({
        email: 'ada@example.com',
        name: 'Ada',
        metadata: { tenant: 't1' },
      });
      expect(data.id).toMatch(/\S/);
      expect(data).toMatchObject({ email: 'ada@example.com', name: 'Ada' });
    });

    it('creates hosted setup and checkout pages (URLs, never card fields)', async () => {
      const { gateway } = await setup();
      const { data: customer } = await gateway.createCustomer({ email: 'b@example.com' });
      const { data: setupPage } = await gateway.createSetupSession({
        customerId: customer.id,
        ...ok,
      });
      expect(new URL(setupPage.url).protocol).toMatch(/^https?:$/);
      expect(Date.parse(setupPage.expiresAt ?? '')).toBeGreaterThan(Date.now());
      const { data: checkout } = await gateway.createCheckoutSession({
        customerId: customer.id,
        amountMinor: 2500,
        currency: 'USD',
        description: 'Setup fee',
        ...ok,
      });
      expect(checkout.id).not.toBe(setupPage.id);
      expect(Object.keys(checkout).sort()).toEqual(['expiresAt', 'id', 'url']);
      const { data: guest } = await gateway.createCheckoutSession({
        amountMinor: 900,
        currency: 'usd',
        description: 'Guest checkout',
        ...ok,
      });
      expect(guest.url).toMatch(/^https?:/);
    });

    it('charges the saved card off-session, with usage', async () => {
      const { gateway, saveCard } = await setup();
      const { data: customer } = await gateway.createCustomer({ email: 'c@example.com' });
      await saveCard(customer.id, 'succeeds');
      const { data, usage } = await gateway.charge({
        customerId: customer.id,
        amountMinor: 4900,
        currency: 'usd',
        description: 'Invoice 42',
        metadata: { invoiceId: 'inv_42' },
      });
      expect(data).toMatchObject({
        status: 'succeeded',
        amountMinor: 4900,
        currency: 'usd',
        refundedMinor: 0,
        customerId: customer.id,
      });
      expect(usage?.operation).toBe('payments.charge');
      expect(usage?.units).toContainEqual({ name: 'payment', quantity: 1 });
      expect(usage?.reference).toBe(data.id);
      const { data: again } = await gateway.getPayment(data.id);
      expect(again).toEqual(data);
    });

    it('answers the first result again for a repeated idempotency key', async () => {
      const { gateway, saveCard } = await setup();
      const { data: customer } = await gateway.createCustomer({});
      await saveCard(customer.id, 'succeeds');
      const input = {
        customerId: customer.id,
        amountMinor: 1000,
        currency: 'usd',
        description: 'x',
      };
      const first = await gateway.charge(input, { idempotencyKey: `charge-${customer.id}` });
      const second = await gateway.charge(input, { idempotencyKey: `charge-${customer.id}` });
      expect(second.data.id).toBe(first.data.id);
      const third = await gateway.charge(input);
      expect(third.data.id).not.toBe(first.data.id);
    });

    it('reports a declined card as invalid with card_declined', async () => {
      const { gateway, saveCard } = await setup();
      const { data: customer } = await gateway.createCustomer({});
      await saveCard(customer.id, 'declines');
      const error = await gateway
        .charge({ customerId: customer.id, amountMinor: 1000, currency: 'usd', description: 'x' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ kind: 'invalid', providerCode: 'card_declined' });
    });

    it('refuses to charge a customer without a saved payment method', async () => {
      const { gateway } = await setup();
      const { data: customer } = await gateway.createCustomer({});
      await expect(
        gateway.charge({
          customerId: customer.id,
          amountMinor: 1000,
          currency: 'usd',
          description: 'x',
        }),
      ).rejects.toMatchObject({ kind: 'invalid' });
    });

    it('refunds partially, then fully', async () => {
      const { gateway, saveCard } = await setup();
      const { data: customer } = await gateway.createCustomer({});
      await saveCard(customer.id, 'succeeds');
      const { data: payment } = await gateway.charge({
        customerId: customer.id,
        amountMinor: 3000,
        currency: 'usd',
        description: 'x',
      });
      const { data: partial } = await gateway.refund({ paymentId: payment.id, amountMinor: 1000 });
      expect(partial).toMatchObject({ status: 'partially_refunded', refundedMinor: 1000 });
      const { data: full } = await gateway.refund({ paymentId: payment.id });
      expect(full).toMatchObject({ status: 'refunded', refundedMinor: 3000 });
      await expect(gateway.refund({ paymentId: payment.id })).rejects.toMatchObject({
        kind: 'invalid',
      });
    });

    it('answers not_found for unknown payments and customers', async () => {
      const { gateway, unknownPaymentId } = await setup();
      await expect(gateway.getPayment(unknownPaymentId)).rejects.toMatchObject({
        kind: 'not_found',
      });
      await expect(
        gateway.createSetupSession({ customerId: 'cus_doesnotexist', ...ok }),
      ).rejects.toMatchObject({ kind: 'not_found' });
    });
  });
}
