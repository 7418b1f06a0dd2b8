import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { defineJob, jobEnvelopeSchema, JobRegistry, UnknownJobError } from './job-registry';

const TENANT = '0190a5b4-7c3e-7d2a-9f1b-3c4d5e6f7a8b';

const job = (name: string) =>
  defineJob({
    name,
    schema: jobEnvelopeSchema,
    handler: async () => undefined,
  });

describe('defineJob', () => {
  it.each([
    'billing.send-invoice.v1',
    'crm.sync.v12',
    'a.v1',
    'voice.calls.transcribe-recording.v3',
    'sms2.send-reminder-24h.v9',
  ])('accepts the name %s and returns the definition unchanged', (name) => {
    const definition = {
      name,
      schema: jobEnvelopeSchema,
      maxAttempts: 3,
      timeoutMs: 1000,
      handler: async () => undefined,
    };
    expect(defineJob(definition)).toBe(definition);
  });

  it.each([
    ['an empty name', ''],
    ['no version', 'billing.send-invoice'],
    ['version zero', 'billing.send-invoice.v0'],
    ['a leading-zero version', 'billing.send-invoice.v01'],
    ['upper case', 'Billing.send-invoice.v1'],
    ['an underscore', 'billing.send_invoice.v1'],
    ['a segment starting with a digit', 'billing.1send.v1'],
    ['a segment starting with a dash', 'billing.-send.v1'],
    ['an empty segment', 'billing..send.v1'],
    ['a leading dot', '.billing.v1'],
    ['a bare version', 'v1'],
    ['a version without the v', 'billing.send.1'],
    ['trailing text', 'billing.send.v1.extra'],
    ['whitespace', 'billing.send invoice.v1'],
  ])('rejects %s', (_label, name) => {
    expect(() => job(name)).toThrow(
      new Error(`job name "${name}" must look like "context.verb-noun.v1"`),
    );
  });
});

describe('JobRegistry', () => {
  it('returns a registered definition by name and reports it with has()', () => {
    const registry = new JobRegistry();
    const definition = job('crm.sync-contact.v1');
    registry.register(definition);

    expect(registry.get('crm.sync-contact.v1')).toBe(definition);
    expect(registry.has('crm.sync-contact.v1')).toBe(true);
    expect(registry.has('crm.sync-contact.v2')).toBe(false);
  });

  it('refuses to register the same name twice and keeps the first definition', () => {
    const registry = new JobRegistry();
    const first = job('crm.sync-contact.v1');
    registry.register(first);

    expect(() => {
      registry.register(job('crm.sync-contact.v1'));
    }).toThrow('job "crm.sync-contact.v1" is registered twice');
    expect(registry.get('crm.sync-contact.v1')).toBe(first);
    expect(registry.names()).toEqual(['crm.sync-contact.v1']);
  });

  it('throws UnknownJobError for a name that is not registered', () => {
    const registry = new JobRegistry();
    registry.register(job('crm.sync-contact.v1'));

    let thrown: unknown;
    try {
      registry.get('crm.sync-contact.v2');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnknownJobError);
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as UnknownJobError).name).toBe('UnknownJobError');
    expect((thrown as UnknownJobError).message).toBe(
      'no job named "crm.sync-contact.v2" is registered',
    );
  });

  it('lists registered names sorted', () => {
    const registry = new JobRegistry();
    expect(registry.names()).toEqual([]);
    for (const name of [
      'voice.transcribe.v1',
      'billing.charge.v2',
      'crm.sync.v1',
      'billing.charge.v1',
    ]) {
      registry.register(job(name));
    }
    expect(registry.names()).toEqual([
      'billing.charge.v1',
      'billing.charge.v2',
      'crm.sync.v1',
      'voice.transcribe.v1',
    ]);
  });

  it('keeps registries independent of one another', () => {
    const a = new JobRegistry();
    const b = new JobRegistry();
    a.register(job('crm.sync.v1'));
    expect(b.has('crm.sync.v1')).toBe(false);
    expect(() => b.get('crm.sync.v1')).toThrow(UnknownJobError);
  });
});

describe('jobEnvelopeSchema', () => {
  it('accepts a tenant UUID and a correlation id', () => {
    expect(jobEnvelopeSchema.parse({ tenantId: TENANT, correlationId: 'req-1' })).toEqual({
      tenantId: TENANT,
      correlationId: 'req-1',
    });
  });

  it('accepts a correlation id of exactly 128 characters', () => {
    const correlationId = 'c'.repeat(128);
    expect(jobEnvelopeSchema.safeParse({ tenantId: TENANT, correlationId }).success).toBe(true);
  });

  it('strips unknown keys, leaving them to the schemas that extend it', () => {
    expect(
      jobEnvelopeSchema.parse({ tenantId: TENANT, correlationId: 'x', extra: 1 }),
    ).not.toHaveProperty('extra');
    const extended = jobEnvelopeSchema.extend({ contactId: z.string() });
    expect(extended.parse({ tenantId: TENANT, correlationId: 'x', contactId: 'c1' })).toEqual({
      tenantId: TENANT,
      correlationId: 'x',
      contactId: 'c1',
    });
  });

  it.each([
    ['a tenant id that is not a UUID', { tenantId: 'tenant-1', correlationId: 'x' }, ['tenantId']],
    ['an empty correlation id', { tenantId: TENANT, correlationId: '' }, ['correlationId']],
    [
      'a correlation id over 128 characters',
      { tenantId: TENANT, correlationId: 'c'.repeat(129) },
      ['correlationId'],
    ],
    ['missing fields', {}, ['tenantId', 'correlationId']],
    ['a numeric correlation id', { tenantId: TENANT, correlationId: 42 }, ['correlationId']],
  ])('rejects %s', (_label, value, fields) => {
    const result = jobEnvelopeSchema.safeParse(value);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(fields);
  });
});
