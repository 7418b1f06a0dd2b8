import { describe, expect, it } from 'vitest';
import { dryRun } from './dry-run';
import type { FlowDefinition, FlowStep } from './flow-types';

const flow = (steps: FlowStep[], extra: Partial<FlowDefinition> = {}): FlowDefinition => ({
  schemaVersion: 1,
  name: 'f',
  trigger: { events: ['maxai.messaging.sms.received'] },
  vars: { n: 0 },
  steps,
  ...extra,
});

const event = {
  type: 'maxai.messaging.sms.received',
  data: { from: '+15550100001', to: '+15550100000', body: 'hi' },
};

describe('dryRun', () => {
  it('does nothing for an event the trigger does not take', async () => {
    const definition = flow([{ id: 'a', type: 'end' }], {
      trigger: { events: ['maxai.messaging.sms.received'], filter: "event.data.body = 'never'" },
    });
    await expect(dryRun(definition, event)).resolves.toEqual({
      matched: false,
      steps: [],
      vars: { n: 0 },
      endedBy: { reason: 'not_matched' },
    });
    await expect(dryRun(definition, { ...event, type: 'other.type' })).resolves.toMatchObject({
      matched: false,
    });
  });

  it('reports a failing filter', async () => {
    const definition = flow([{ id: 'a', type: 'end' }], {
      trigger: { events: ['maxai.messaging.sms.received'], filter: 'event.data.body + 1' },
    });
    await expect(dryRun(definition, event)).resolves.toMatchObject({
      matched: false,
      endedBy: {
        reason: 'failed',
        detail: expect.stringContaining('"+" operator'),
        pointer: '/trigger/filter',
      },
    });
  });

  it('shows resolved inputs and sample, stubbed or computed outputs, step by step', async () => {
    const definition = flow([
      { id: 'contact', type: 'crm.upsert_contact', inputs: { phone: '=event.data.from' } },
      { id: 'skipped', type: 'crm.add_note', when: 'false', inputs: { contactId: 'x', body: 'y' } },
      {
        id: 'slot',
        type: 'calendar.next_free_slot',
        inputs: {
          from: '2026-12-01T15:00:00Z',
          until: '2026-12-02T15:00:00Z',
          durationMinutes: 30,
        },
      },
      {
        id: 'remember',
        type: 'set_vars',
        vars: { n: '=vars.n + 1', id: '=steps.contact.output.contact.id' },
      },
      { id: 'pause', type: 'delay', duration: 'PT15M' },
      {
        id: 'route',
        type: 'branch',
        conditions: [{ when: 'steps.skipped.status = "skipped"', next: 'done' }],
      },
      { id: 'unreached', type: 'end', status: 'cancelled' },
      { id: 'done', type: 'end' },
    ]);
    const result = await dryRun(definition, event, {
      stubs: { contact: { contact: { id: 'c42', tags: [] } } },
    });
    expect(result.steps.map((s) => [s.id, s.status, s.next])).toEqual([
      ['contact', 'would_run', 'skipped'],
      ['skipped', 'skipped', 'slot'],
      ['slot', 'would_run', 'remember'],
      ['remember', 'would_run', 'pause'],
      ['pause', 'would_run', 'route'],
      ['route', 'branch', 'done'],
      ['done', 'would_run', null],
    ]);
    expect(result.steps[0]).toMatchObject({
      resolvedInputs: { phone: '+15550100001' },
      output: { contact: { id: 'c42' } },
    });
    expect(result.steps[2]?.output).toMatchObject({
      found: true,
      available: true,
      start: '2026-12-01T15:00:00.000Z',
    });
    expect(result.steps[4]).toMatchObject({ resolvedInputs: { seconds: 900 }, output: {} });
    expect(result.steps[5]?.output).toEqual({ next: 'done', condition: 0 });
    expect(result.vars).toEqual({ n: 1, id: 'c42' });
    expect(result.endedBy).toEqual({ reason: 'end', status: 'completed' });
  });

  it('follows a wait’s timeout path when its stub says so', async () => {
    const definition = flow([
      {
        id: 'wait',
        type: 'wait_for_event',
        event: 'maxai.messaging.sms.received',
        correlate: { eventKey: 'event.data.from', runKey: 'event.data.from' },
        timeoutSeconds: 3600,
        onTimeout: 'late',
      },
      { id: 'answered', type: 'end' },
      { id: 'late', type: 'end', status: 'cancelled' },
    ]);
    const arrived = await dryRun(definition, event);
    expect(arrived.steps[0]).toMatchObject({
      resolvedInputs: {
        event: 'maxai.messaging.sms.received',
        runKey: '+15550100001',
        timeoutSeconds: 3600,
      },
      output: { timedOut: false },
      next: 'answered',
    });
    const late = await dryRun(definition, event, { stubs: { wait: { timedOut: true } } });
    expect(late.steps.map((s) => s.id)).toEqual(['wait', 'late']);
    expect(late.endedBy).toEqual({ reason: 'end', status: 'cancelled' });
    const odd = await dryRun(definition, event, { stubs: { wait: null } });
    expect(odd.steps[0]?.next).toBe('answered');
  });

  it('stops a loop at its bound, and any run at maxSteps', async () => {
    const loop = flow([
      { id: 'count', type: 'set_vars', vars: { n: '=vars.n + 1' }, maxIterations: 3 },
      { id: 'again', type: 'branch', conditions: [{ when: 'true', next: 'count' }] },
    ]);
    const bounded = await dryRun(loop, event);
    expect(bounded.steps).toHaveLength(6);
    expect(bounded.vars.n).toBe(3);
    expect(bounded.endedBy).toEqual({
      reason: 'failed',
      detail: 'step "count" would start a 4th time; its maxIterations is 3',
    });
    const cut = await dryRun(loop, event, { maxSteps: 4 });
    expect(cut.steps).toHaveLength(4);
    expect(cut.endedBy).toEqual({ reason: 'step_limit' });
  });

  it('ends at the last step when no end step comes', async () => {
    const result = await dryRun(flow([{ id: 'a', type: 'set_vars', vars: { n: 5 } }]), event);
    expect(result).toMatchObject({
      matched: true,
      vars: { n: 5 },
      endedBy: { reason: 'end', status: 'completed' },
    });
  });

  it('stops at a step whose inputs are invalid, showing the issues', async () => {
    const result = await dryRun(
      flow([
        {
          id: 'send',
          type: 'messaging.send_sms',
          inputs: { from: '=vars.none', to: '=event.data.from', body: 'x' },
        },
      ]),
      event,
    );
    expect(result.steps).toEqual([
      {
        id: 'send',
        type: 'messaging.send_sms',
        status: 'failed',
        resolvedInputs: { to: '+15550100001', body: 'x' },
        output: null,
        next: null,
        issues: [
          { pointer: '/steps/0/inputs/from', message: expect.stringContaining('expected string') },
        ],
      },
    ]);
    expect(result.endedBy).toEqual({ reason: 'failed', detail: 'step "send" has invalid inputs' });
  });

  it('stops at a failing expression, with its pointer', async () => {
    const result = await dryRun(
      flow([{ id: 'a', type: 'set_vars', vars: { n: '=vars.n + "x"' } }]),
      event,
    );
    expect(result.steps).toEqual([
      { id: 'a', type: 'set_vars', status: 'failed', resolvedInputs: {}, output: null, next: null },
    ]);
    expect(result.endedBy).toMatchObject({ reason: 'failed', pointer: '/steps/0/vars/n' });
  });

  it('throws what is not an expression failure (a definition that was not validated)', async () => {
    const broken = flow([{ id: 'a', type: 'nope' } as unknown as FlowStep]);
    await expect(dryRun(broken, event)).rejects.toThrow('unknown step type "nope"');
  });
});
