import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmtpEmailSender } from './smtp-email-sender';

/** A real SMTP server on loopback receives what the adapter sends. */
const received: { from: string; to: string[]; data: string }[] = [];
let server: SMTPServer;
let port: number;

beforeAll(async () => {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (chunk: Buffer) => (data += chunk.toString()));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('SmtpEmailSender', () => {
  it('delivers the message through the configured relay', async () => {
    const sender = new SmtpEmailSender(`smtp://127.0.0.1:${port}`, 'MaxAI <no-reply@maxai.test>');
    await sender.send({
      to: 'ana@example.com',
      subject: 'You are invited',
      text: 'Token: mxi_abc',
    });
    sender.close();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ from: 'no-reply@maxai.test', to: ['ana@example.com'] });
    expect(received[0]!.data).toContain('Subject: You are invited');
    expect(received[0]!.data).toContain('Token: mxi_abc');
  });
});
