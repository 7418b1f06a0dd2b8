import { describe, expect, it } from 'vitest';
import { PORT_NAMES, type FlowDefinition } from './flow-types';
import { isStepType, requiredPorts, STEP_CATALOGUE, STEP_TYPES, stepSpec } from './step-catalogue';
import { MissingPortError, type FlowPorts } from './step-spec';

type Call = [port: string, method: string, args: unknown[]];

/** Ports whose every method records its call and answers `{ data: <method> }`. */
function recordingPorts(): { ports: FlowPorts; calls: Call[] } {
  const calls: Call[] = [];
  const port = (name: string): unknown =>
    new Proxy(
      {},
      {
        get:
          (_, method) =>
          (...args: unknown[]) => {
            calls.push([name, String(method), args]);
            return Promise.resolve({ data: method });
          },
      },
    );
  const names = ['crm', 'calendar', 'voice', 'messaging', 'llm', 'workflow'];
  return { ports: Object.fromEntries(names.map((n) => [n, port(n)])), calls };
}

const OPTIONS = { idempotencyKey: 'run-1:step-1:1' };
const RANGE = { start: '2026-12-01T15:00:00Z', end: '2026-12-01T16:00:00Z' };

const INVOCATIONS: [type: string, input: Record<string, unknown>, args: unknown[]][] = [
  ['crm.upsert_contact', { phone: '+15550100001' }, [{ phone: '+15550100001' }]],
  ['crm.get_contact', { contactId: 'c1' }, ['c1']],
  ['crm.search_contacts', { query: 'ana', limit: 5 }, [{ query: 'ana', limit: 5 }]],
  ['crm.add_note', { contactId: 'c1', body: 'hi' }, ['c1', 'hi']],
  ['crm.add_tags', { contactId: 'c1', tags: ['a'] }, ['c1', ['a']]],
  ['crm.remove_tags', { contactId: 'c1', tags: ['a'] }, ['c1', ['a']]],
  [
    'crm.create_opportunity',
    { contactId: 'c1', pipelineId: 'p', stageId: 's', name: 'n' },
    [{ contactId: 'c1', pipelineId: 'p', stageId: 's', name: 'n' }],
  ],
  ['crm.update_opportunity', { opportunityId: 'o1', status: 'won' }, ['o1', { status: 'won' }]],
  [
    'calendar.free_busy',
    { ...RANGE, calendarIds: ['primary'], timeZone: 'UTC' },
    [{ ...RANGE, calendarIds: ['primary'], timeZone: 'UTC' }],
  ],
  [
    'calendar.list_events',
    { ...RANGE, calendarId: 'primary' },
    [{ ...RANGE, calendarId: 'primary' }],
  ],
  [
    'calendar.create_event',
    { ...RANGE, calendarId: 'primary', title: 't', timeZone: 'UTC' },
    [{ ...RANGE, calendarId: 'primary', title: 't', timeZone: 'UTC' }],
  ],
  ['calendar.cancel_event', { calendarId: 'primary', eventId: 'e1' }, ['primary', 'e1']],
  [
    'messaging.send_sms',
    { from: '+15550100000', to: '+15550100001', body: 'hi' },
    [{ from: '+15550100000', to: '+15550100001', body: 'hi' }],
  ],
  ['messaging.get_message', { messageId: 'SM1' }, ['SM1']],
  ['messaging.list_messages', { with: '+15550100001' }, [{ with: '+15550100001', limit: 20 }]],
  [
    'voice.start_call',
    { agentId: 'a1', fromNumber: '+15550100000', toNumber: '+15550100001' },
    [{ agentId: 'a1', fromNumber: '+15550100000', toNumber: '+15550100001' }],
  ],
  ['voice.get_call', { callId: 'call1' }, ['call1']],
];

describe('the step catalogue', () => {
  it('describes every step type consistently', () => {
    for (const type of STEP_TYPES) {
      const spec = STEP_CATALOGUE[type];
      expect(spec.summary.length, type).toBeGreaterThan(10);
      expect(spec.method === null, type).toBe(spec.port === null);
      expect(spec.input === null, type).toBe(spec.execution === 'control');
      expect(spec.invoke !== undefined, type).toBe(
        spec.execution === 'port' && spec.portGap === undefined,
      );
      expect(spec.compute !== undefined, type).toBe(spec.execution === 'pure');
      if (spec.port !== null) expect(PORT_NAMES).toContain(spec.port);
      if (spec.port !== null && spec.execution !== 'runtime') {
        expect(type.startsWith(`${spec.port}.`), type).toBe(true);
      }
    }
  });

  it.each(INVOCATIONS)('runs %s through its port method', async (type, input, args) => {
    const { ports, calls } = recordingPorts();
    const spec = stepSpec(type);
    const result = await spec.invoke?.(ports, input, OPTIONS);
    expect(calls).toEqual([[spec.port, spec.method, [...args, OPTIONS]]]);
    expect(result).toEqual({ data: spec.method });
  });

  it('covers every executable port step in the invocation table', () => {
    const executable = STEP_TYPES.filter((t) => STEP_CATALOGUE[t].invoke !== undefined);
    expect(INVOCATIONS.map(([type]) => type).sort()).toEqual([...executable].sort());
  });

  it('parses the input before calling the port', async () => {
    const { ports, calls } = recordingPorts();
    const invoke = stepSpec('messaging.send_sms').invoke;
    await expect(
      invoke?.(ports, { from: 'nope', to: '+15550100001', body: '' }, {}),
    ).rejects.toThrow();
    expect(calls).toEqual([]);
  });

  it('fails clearly when the run has no adapter for the port', async () => {
    const invoke = stepSpec('crm.get_contact').invoke;
    const error: unknown = await invoke?.({}, { contactId: 'c1' }, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingPortError);
    expect(error).toMatchObject({ port: 'crm', message: 'no crm adapter is bound for this run' });
  });

  it('checks inputs the way the ports need them', () => {
    const upsert = stepSpec('crm.upsert_contact').input;
    expect(upsert?.safeParse({ name: 'Ana' }).success).toBe(false);
    expect(upsert?.safeParse({ email: 'ana@example.com' }).success).toBe(true);
    const http = stepSpec('http.request').input;
    expect(http?.parse({ url: 'https://x.example/a' })).toEqual({
      method: 'GET',
      url: 'https://x.example/a',
    });
    expect(http?.safeParse({ url: 'file:///etc/passwd' }).success).toBe(false);
    expect(stepSpec('llm.generate').input?.parse({ prompt: { key: 'k' } })).toEqual({
      prompt: { key: 'k' },
      variables: {},
    });
  });

  it('computes pure steps', () => {
    const compute = stepSpec('calendar.next_free_slot').compute;
    expect(
      compute?.({
        from: '2026-12-01T15:00:00Z',
        until: '2026-12-01T16:00:00Z',
        durationMinutes: 30,
      }),
    ).toMatchObject({
      found: true,
      available: true,
    });
  });

  it('knows its types', () => {
    expect(isStepType('crm.add_note')).toBe(true);
    expect(isStepType('toString')).toBe(false);
    expect(() => stepSpec('crm.nothing')).toThrow('unknown step type "crm.nothing"');
  });

  it('tells the ports a flow needs', () => {
    const definition = {
      schemaVersion: 1,
      name: 'x',
      trigger: { events: ['a.b'] },
      steps: [
        { id: 'a', type: 'crm.add_note', inputs: {} },
        { id: 'b', type: 'llm.generate', prompt: { key: 'k' } },
        { id: 'c', type: 'crm.add_tags' },
        { id: 'd', type: 'calendar.next_free_slot' },
        { id: 'e', type: 'n8n.delegate', workflow: 'w', mode: 'sync' },
        { id: 'f', type: 'end' },
      ],
    } as FlowDefinition;
    expect([...requiredPorts(definition)]).toEqual(['crm', 'llm', 'workflow']);
  });
});
