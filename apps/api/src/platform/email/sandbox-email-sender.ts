import type { EmailMessage, EmailSender } from '@maxai/core';
import type { Logger } from 'pino';

/**
 * The development/sandbox adapter: logs that a message went out (recipient and subject only —
 * bodies carry one-time tokens) and keeps the latest messages in memory for inspection.
 */
export class SandboxEmailSender implements EmailSender {
  private readonly sent: EmailMessage[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly keep = 100,
  ) {}

  send(message: EmailMessage): Promise<void> {
    this.sent.push(message);
    if (this.sent.length > this.keep) this.sent.shift();
    this.logger.info({ to: message.to, subject: message.subject }, 'email sent (sandbox)');
    return Promise.resolve();
  }

  /** Messages sent to `to`, oldest first. */
  messagesTo(to: string): EmailMessage[] {
    return this.sent.filter((m) => m.to === to.toLowerCase() || m.to === to);
  }
}
