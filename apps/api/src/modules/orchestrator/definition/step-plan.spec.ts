import { describe, expect, it } from 'vitest';
import { ExpressionError, type ExpressionScope } from './expressions';
import type { FlowDefinition, FlowStep } from './flow-types';
import { planStep } from './step-plan';

function flow(steps: FlowStep[]): FlowDefinition {
  return { schemaVersion: 1, name: 'f', trigger: { events: ['a.b'] }, steps };
}

const scope: ExpressionScope = {
  event: { data: { from: '+15550100001', to: '+15550100000', n: 2 } },
  steps: {},
  vars: { tag: 'vip' },
};

const plan = (step: FlowStep) => planStep(flow([step]), step.id, scope);

describe('planStep', () => {
  it('skips a step whose when is false', async () => {
    await expect(plan({ id: 's', type: 'end', when: 'event.data.n > 5' })).resolves.toEqual({
      action: 'skip',
    });
    await expect(plan({ id: 's', type: 'end', when: '=event.data.n > 1' })).resolves.toEqual({
      action: 'end',
      status: 'completed',
    });
  });

  it('picks the first branch condition that holds, else otherwise, else none', async () => {
    const branch = (otherwise?: string): FlowStep => ({
      id: 's',
      type: 'branch',
      conditions: [
        { when: 'event.data.n = 1', next: 'one' },
        { when: '=event.data.n = 2', next: 'two' },
        { when: 'true', next: 'never' },
      ],
      ...(otherwise === undefined ? {} : { otherwise }),
    });
    await expect(plan(branch())).resolves.toEqual({ action: 'branch', next: 'two', condition: 1 });
    const none: FlowStep = { id: 's', type: 'branch', conditions: [{ when: 'false', next: 'x' }] };
    await expect(plan(none)).resolves.toEqual({ action: 'branch', next: null, condition: null });
    await expect(plan({ ...none, otherwise: 'o' })).resolves.toEqual({
      action: 'branch',
      next: 'o',
      condition: null,
    });
  });

  it('resolves set_vars, delay, wait and end', async () => {
    await expect(
      plan({ id: 's', type: 'set_vars', vars: { n: '=event.data.n + 1', k: 'x' } }),
    ).resolves.toEqual({
      action: 'set_vars',
      vars: { n: 3, k: 'x' },
    });
    await expect(plan({ id: 's', type: 'delay', duration: 'PT1H' })).resolves.toEqual({
      action: 'delay',
      seconds: 3600,
    });
    await expect(
      plan({
        id: 's',
        type: 'wait_for_event',
        event: 'maxai.messaging.sms.received',
        correlate: { eventKey: 'event.data.from', runKey: '=event.data.from' },
        timeoutSeconds: 600,
        onTimeout: 'x',
      }),
    ).resolves.toEqual({
      action: 'wait',
      event: 'maxai.messaging.sms.received',
      runKey: '+15550100001',
      timeoutSeconds: 600,
    });
    await expect(plan({ id: 's', type: 'end', status: 'cancelled' })).resolves.toEqual({
      action: 'end',
      status: 'cancelled',
    });
  });

  it('resolves and parses the inputs of a call', async () => {
    const step: FlowStep = {
      id: 's',
      type: 'messaging.send_sms',
      inputs: { from: '=event.data.to', to: '=event.data.from', body: '="Hi " & vars.tag' },
    };
    const planned = await plan(step);
    expect(planned).toMatchObject({
      action: 'call',
      inputs: { from: '+15550100000', to: '+15550100001', body: 'Hi vip' },
      input: { from: '+15550100000', to: '+15550100001', body: 'Hi vip' },
    });
    expect(planned.action === 'call' && planned.spec.port).toBe('messaging');
    const llm = await plan({ id: 's', type: 'llm.generate', prompt: { key: 'k' } });
    expect(llm).toMatchObject({
      action: 'call',
      inputs: { prompt: { key: 'k' } },
      input: { variables: {} },
    });
  });

  it('reports resolved inputs the step type refuses, at their pointers', async () => {
    const step: FlowStep = {
      id: 's',
      type: 'calendar.create_event',
      inputs: {
        calendarId: 'primary',
        title: 'x',
        start: '=event.data.n',
        end: '2026-12-01T10:00:00Z',
        timeZone: 'UTC',
        attendees: [{ email: 'nope' }],
      },
    };
    await expect(
      planStep(flow([{ id: 'a', type: 'end' }, step]), 's', scope),
    ).resolves.toMatchObject({
      action: 'invalid_input',
      inputs: { start: 2 },
      issues: [
        { pointer: '/steps/1/inputs/start', message: expect.stringContaining('expected string') },
        { pointer: '/steps/1/inputs/attendees/0/email', message: expect.stringContaining('email') },
      ],
    });
    await expect(
      plan({ id: 's', type: 'crm.upsert_contact', inputs: { name: 'Ana' } }),
    ).resolves.toMatchObject({
      action: 'invalid_input',
      issues: [{ pointer: '/steps/0/inputs', message: 'needs an email or a phone' }],
    });
  });

  it('throws failing expressions located at their pointer', async () => {
    for (const [step, pointer] of [
      [{ id: 's', type: 'end', when: 'vars.tag + 1' }, '/steps/0/when'],
      [
        { id: 's', type: 'branch', conditions: [{ when: 'vars.tag + 1', next: 's' }] },
        '/steps/0/conditions/0/when',
      ],
      [
        { id: 's', type: 'crm.add_note', inputs: { contactId: 'c', body: '=vars.tag + 1' } },
        '/steps/0/inputs/body',
      ],
      [
        {
          id: 's',
          type: 'wait_for_event',
          event: 'a.b',
          correlate: { eventKey: 'x', runKey: 'vars.tag + 1' },
          timeoutSeconds: 60,
          onTimeout: 's',
        },
        '/steps/0/correlate/runKey',
      ],
    ] as [FlowStep, string][]) {
      const error: unknown = await plan(step).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExpressionError);
      expect(error).toMatchObject({ pointer });
    }
  });
});
