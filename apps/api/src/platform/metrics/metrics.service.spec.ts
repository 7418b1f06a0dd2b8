import type { PoolStats } from '@maxai/db';
import { describe, expect, it } from 'vitest';
import { MetricsService } from './metrics.service';

const OWN_METRICS = [
  'http_request_duration_seconds',
  'jobs_processed_total',
  'job_duration_seconds',
  'jobs_enqueued_total',
  'db_pool_connections_total',
  'db_pool_connections_idle',
  'db_pool_requests_waiting',
];

const names = (metrics: MetricsService): string[] =>
  metrics.registry.getMetricsAsArray().map((m) => m.name);

/** The sample lines of one metric, e.g. `db_pool_connections_total 4`. */
async function samples(metrics: MetricsService, name: string): Promise<string[]> {
  const text = await metrics.registry.getSingleMetricAsString(name);
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

describe('MetricsService', () => {
  it("collects Node's default process metrics by default", async () => {
    const metrics = new MetricsService();

    expect(names(metrics)).toEqual(expect.arrayContaining(OWN_METRICS));
    expect(names(metrics)).toEqual(
      expect.arrayContaining(['process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes']),
    );
    expect(await metrics.registry.metrics()).toMatch(/^process_cpu_user_seconds_total \d/m);
  });

  it('registers only its own metrics when defaults are off', async () => {
    const metrics = new MetricsService(false);

    expect(names(metrics)).toEqual(OWN_METRICS);
    const text = await metrics.registry.metrics();
    expect(text).not.toContain('process_cpu_user_seconds_total');
    expect(text).not.toContain('nodejs_');
  });

  it('keeps a registry per instance, so several instances do not collide', async () => {
    const a = new MetricsService(false);
    const b = new MetricsService(false);
    expect(a.registry).not.toBe(b.registry);

    a.recordJob('crm.sync.v1', 'succeeded', 0.2);

    expect(await samples(a, 'jobs_processed_total')).toEqual([
      'jobs_processed_total{job="crm.sync.v1",outcome="succeeded"} 1',
    ]);
    expect(await samples(b, 'jobs_processed_total')).toEqual([]);
  });

  describe('database pool gauges', () => {
    it('report the observed pool statistics when scraped', async () => {
      const metrics = new MetricsService(false);
      metrics.observePool(() => ({ total: 7, idle: 5, waiting: 2 }));

      const text = await metrics.registry.metrics();

      expect(text).toMatch(/^db_pool_connections_total 7$/m);
      expect(text).toMatch(/^db_pool_connections_idle 5$/m);
      expect(text).toMatch(/^db_pool_requests_waiting 2$/m);
    });

    it('read the source anew on every scrape', async () => {
      const metrics = new MetricsService(false);
      let stats: PoolStats = { total: 1, idle: 1, waiting: 0 };
      let reads = 0;
      metrics.observePool(() => {
        reads++;
        return stats;
      });

      expect(await samples(metrics, 'db_pool_connections_total')).toEqual([
        'db_pool_connections_total 1',
      ]);
      stats = { total: 10, idle: 0, waiting: 4 };
      expect(await samples(metrics, 'db_pool_connections_total')).toEqual([
        'db_pool_connections_total 10',
      ]);
      expect(await samples(metrics, 'db_pool_connections_idle')).toEqual([
        'db_pool_connections_idle 0',
      ]);
      expect(await samples(metrics, 'db_pool_requests_waiting')).toEqual([
        'db_pool_requests_waiting 4',
      ]);
      expect(reads).toBe(4);
    });

    it('use the latest source given to observePool', async () => {
      const metrics = new MetricsService(false);
      metrics.observePool(() => ({ total: 3, idle: 3, waiting: 0 }));
      metrics.observePool(() => ({ total: 9, idle: 8, waiting: 1 }));

      expect(await samples(metrics, 'db_pool_connections_total')).toEqual([
        'db_pool_connections_total 9',
      ]);
    });

    it('are never set without an observed pool, staying at their initial zero', async () => {
      const metrics = new MetricsService(false);

      expect(await samples(metrics, 'db_pool_connections_total')).toEqual([
        'db_pool_connections_total 0',
      ]);
      expect(await samples(metrics, 'db_pool_connections_idle')).toEqual([
        'db_pool_connections_idle 0',
      ]);
      expect(await samples(metrics, 'db_pool_requests_waiting')).toEqual([
        'db_pool_requests_waiting 0',
      ]);
    });

    it('collect the observed value when the gauge itself is read', async () => {
      const metrics = new MetricsService(false);
      const gauge = metrics.registry.getSingleMetric('db_pool_requests_waiting');
      expect(gauge).toBeDefined();

      metrics.observePool(() => ({ total: 2, idle: 1, waiting: 3 }));
      expect((await gauge!.get()).values.map((v) => v.value)).toEqual([3]);
    });
  });

  describe('recordJob', () => {
    it('counts an execution and observes its duration per job and outcome', async () => {
      const metrics = new MetricsService(false);

      metrics.recordJob('crm.sync.v1', 'succeeded', 0.03);
      metrics.recordJob('crm.sync.v1', 'succeeded', 2);
      metrics.recordJob('crm.sync.v1', 'retry', 0.5);
      metrics.recordJob('sms.send.v1', 'dead', 0.001);

      expect(await samples(metrics, 'jobs_processed_total')).toEqual([
        'jobs_processed_total{job="crm.sync.v1",outcome="succeeded"} 2',
        'jobs_processed_total{job="crm.sync.v1",outcome="retry"} 1',
        'jobs_processed_total{job="sms.send.v1",outcome="dead"} 1',
      ]);
      const durations = await samples(metrics, 'job_duration_seconds');
      expect(durations).toContain(
        'job_duration_seconds_count{job="crm.sync.v1",outcome="succeeded"} 2',
      );
      expect(durations).toContain(
        'job_duration_seconds_sum{job="crm.sync.v1",outcome="succeeded"} 2.03',
      );
      expect(durations).toContain(
        'job_duration_seconds_bucket{le="0.05",job="crm.sync.v1",outcome="succeeded"} 1',
      );
      expect(durations).toContain(
        'job_duration_seconds_bucket{le="5",job="crm.sync.v1",outcome="succeeded"} 2',
      );
      expect(durations).toContain('job_duration_seconds_count{job="sms.send.v1",outcome="dead"} 1');
    });
  });
});
