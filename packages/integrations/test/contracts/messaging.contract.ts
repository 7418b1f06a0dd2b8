import { ProviderError, smsSegments, type MessagingPort } from '@maxai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

export interface MessagingContractSetup {
  adapter: MessagingPort;
  /** A sender the adapter's account may use. */
  from: string;
  /** A sender the account does not own. */
  foreignFrom: string;
  /** A message id no message has. */
  unknownMessageId: string;
  /** Has the provider deliver a sent message (sandbox scenario). */
  deliver(messageId: string): Promise<void>;
  /** Puts a past message with `them` into the provider's history (sandbox scenario). */
  seed(message: {
    direction: 'inbound' | 'outbound';
    them: string;
    body: string;
    /** ISO date it was sent. */
    at: string;
  }): Promise<void>;
  teardown?(): Promise<void>;
}

/** What every `MessagingPort` adapter does, whoever the provider. */
export function runMessagingContract(
  label: string,
  setup: () => Promise<MessagingContractSetup>,
): void {
  describe(`MessagingPort contract: ${label}`, () => {
    let s: MessagingContractSetup;
    const to = '+14155550123';

    beforeAll(async () => {
      s = await setup();
    });
    afterAll(async () => {
      await s.teardown?.();
    });

    it('sends an SMS and reports the billed segments as usage', async () => {
      const { data, usage } = await s.adapter.sendSms({
        from: s.from,
        to,
        body: 'Your visit is at 3pm.',
      });
      expect(data.id).not.toBe('');
      expect(data).toMatchObject({ from: s.from, to, body: 'Your visit is at 3pm.', segments: 1 });
      expect(['queued', 'sending', 'sent']).toContain(data.status);
      expect(usage).toMatchObject({
        operation: 'messaging.send_sms',
        units: [{ name: 'sms_segment', quantity: 1 }],
        reference: data.id,
      });
    });

    it('counts segments as GSM-7 and UCS-2 bodies are billed', async () => {
      const long = 'a'.repeat(200);
      const unicode = 'Grüße 👋 '.repeat(10);
      const sentLong = await s.adapter.sendSms({ from: s.from, to, body: long });
      const sentUnicode = await s.adapter.sendSms({ from: s.from, to, body: unicode });
      expect(sentLong.data.segments).toBe(2);
      expect(sentUnicode.data.segments).toBe(smsSegments(unicode).segments);
      expect(sentUnicode.usage?.units[0]?.quantity).toBe(sentUnicode.data.segments);
    });

    it('reads a message back, delivered once the provider delivers it', async () => {
      const { data: sent } = await s.adapter.sendSms({ from: s.from, to, body: 'hello' });
      const read = await s.adapter.getMessage(sent.id);
      expect(read.data).toMatchObject({ id: sent.id, to, from: s.from, body: 'hello' });
      await s.deliver(sent.id);
      const delivered = await s.adapter.getMessage(sent.id);
      expect(delivered.data.status).toBe('delivered');
      expect(delivered.data.sentAt).toEqual(expect.any(String));
    });

    it('answers not_found for a message it does not have', async () => {
      const error = await s.adapter.getMessage(s.unknownMessageId).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect(error).toMatchObject({ kind: 'not_found' });
    });

    it('lists the conversation with a number, both directions, newest first, up to a limit', async () => {
      const them = '+14155550177';
      const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
      await s.seed({ direction: 'inbound', them, body: 'in-1', at: ago(300) });
      await s.seed({ direction: 'outbound', them, body: 'out-1', at: ago(200) });
      await s.seed({ direction: 'inbound', them, body: 'in-2', at: ago(100) });
      await s.seed({ direction: 'inbound', them: '+14155550188', body: 'elsewhere', at: ago(50) });
      await s.adapter.sendSms({ from: s.from, to: them, body: 'out-2' });

      const { data } = await s.adapter.listMessages({ with: them, ours: s.from });
      expect(data.map((m) => m.body)).toEqual(['out-2', 'in-2', 'out-1', 'in-1']);
      expect(data[1]).toMatchObject({ from: them, to: s.from, status: 'received', segments: 1 });
      expect(data[2]).toMatchObject({ from: s.from, to: them, status: 'delivered' });
      expect(Date.parse(data[2]?.sentAt ?? '')).toBeLessThan(Date.parse(data[1]?.sentAt ?? ''));
      expect(data[0]?.id).not.toBe('');

      const withoutOurs = await s.adapter.listMessages({ with: them });
      expect(withoutOurs.data.map((m) => m.body)).toEqual(['out-2', 'in-2', 'out-1', 'in-1']);
      expect(withoutOurs.data.map((m) => m.from === them)).toEqual([false, true, false, true]);
      expect(withoutOurs.data.map((m) => m.to === them)).toEqual([true, false, true, false]);

      const limited = await s.adapter.listMessages({ with: them, limit: 3 });
      expect(limited.data.map((m) => m.body)).toEqual(['out-2', 'in-2', 'out-1']);
      expect(limited.usage).toBeUndefined();
    });

    it('lists nothing for a number there is no conversation with', async () => {
      const { data } = await s.adapter.listMessages({ with: '+14155550199', limit: 5 });
      expect(data).toEqual([]);
    });

    it('refuses an invalid recipient and a sender the account does not own as invalid', async () => {
      const badTo = await s.adapter
        .sendSms({ from: s.from, to: 'not-a-number', body: 'x' })
        .catch((e: unknown) => e);
      expect(badTo).toMatchObject({ kind: 'invalid' });
      const badFrom = await s.adapter
        .sendSms({ from: s.foreignFrom, to, body: 'x' })
        .catch((e: unknown) => e);
      expect(badFrom).toMatchObject({ kind: 'invalid' });
    });
  });
}
