import type { EmailMessage, EmailSender } from '@maxai/core';
import nodemailer, { type Transporter } from 'nodemailer';

/** Mail through an SMTP relay (SMTP_URL, e.g. smtps://user:pass@smtp.example.com:465). */
export class SmtpEmailSender implements EmailSender {
  private readonly transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport(smtpUrl);
  }

  async send(message: EmailMessage): Promise<void> {
    await this.transport.sendMail({
      from: this.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
    });
  }

  close(): void {
    this.transport.close();
  }
}
