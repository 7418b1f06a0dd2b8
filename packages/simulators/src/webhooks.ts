/** A webhook a simulator sent to the platform, kept for tests to inspect. */
export interface SentWebhook {
  vendor: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  status: number | 'error';
  at: string;
}

/**
 * Delivers signed webhooks to the platform. Each vendor signs its own way (see its folder); this
 * only posts the exact bytes it is given and records the outcome.
 */
export class WebhookSender {
  readonly sent: SentWebhook[] = [];

  constructor(private readonly timeoutMs = 5000) {}

  async send(
    vendor: string,
    url: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<SentWebhook> {
    let status: number | 'error';
    try {
      const res = await fetch(url, {
        method: 'POST',
        body,
        headers,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
    } catch {
      status = 'error';
    }
    const record = { vendor, url, headers, body, status, at: new Date().toISOString() };
    this.sent.push(record);
    return record;
  }
}
