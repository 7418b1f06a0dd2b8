import { Counter, Histogram } from 'prom-client';
import type { MetricsService } from '../../platform/metrics/metrics.service';

export type IngressOutcome = 'accepted' | 'duplicate' | 'unprocessable';

/** Webhook ingress counters and the acknowledgement latency, per provider. */
export class WebhookMetrics {
  readonly received: Counter<'provider'>;
  readonly verified: Counter<'provider'>;
  readonly rejected: Counter<'provider' | 'reason'>;
  readonly outcomes: Counter<'provider' | 'outcome'>;
  readonly ackLatency: Histogram<'provider' | 'outcome'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.received = new Counter({
      name: 'webhooks_received_total',
      help: 'Webhook requests that reached a known endpoint, by provider',
      labelNames: ['provider'],
      registers,
    });
    this.verified = new Counter({
      name: 'webhooks_verified_total',
      help: 'Webhook requests whose signature verified, by provider',
      labelNames: ['provider'],
      registers,
    });
    this.rejected = new Counter({
      name: 'webhooks_rejected_total',
      help: 'Webhook requests rejected (signature, time window, rate limit, media type), by provider and reason',
      labelNames: ['provider', 'reason'],
      registers,
    });
    this.outcomes = new Counter({
      name: 'webhooks_stored_total',
      help: 'Verified webhooks by outcome: accepted, duplicate or unprocessable',
      labelNames: ['provider', 'outcome'],
      registers,
    });
    this.ackLatency = new Histogram({
      name: 'webhooks_ack_latency_seconds',
      help: 'Time from request to acknowledgement (after the durable write), by provider and outcome',
      labelNames: ['provider', 'outcome'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
  }
}
