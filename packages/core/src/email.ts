/** Outgoing mail (invitations, password resets, verification). Adapters: log/sandbox, SMTP. */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface EmailSender {
  send(message: EmailMessage): Promise<void>;
}
