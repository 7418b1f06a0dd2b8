import { describe, expect, it } from 'vitest';
import type { FlowDefinition, WaitForEventStep } from './flow-types';
import { concurrencyKeyOf, eventKeyOf, initialScope, matchesTrigger } from './trigger';

const definition: FlowDefinition = {
  schemaVersion: 1,
  name: 'f',
  trigger: { events: ['maxai.voice.call.ended'], filter: 'event.data.outcome in vars.missed' },
  vars: { missed: ['unanswered', 'voicemail'] },
  concurrencyKey: '=event.data.from',
  steps: [{ id: 'a', type: 'end' }],
};
const event = (outcome: string, type = 'maxai.voice.call.ended') => ({
  type,
  data: { outcome, from: '+15550100001' },
});

describe('matchesTrigger', () => {
  it('needs one of the trigger types and a true filter (which sees the initial vars)', async () => {
    await expect(matchesTrigger(definition, event('voicemail'))).resolves.toBe(true);
    await expect(matchesTrigger(definition, event('completed'))).resolves.toBe(false);
    await expect(matchesTrigger(definition, event('voicemail', 'maxai.other'))).resolves.toBe(
      false,
    );
  });

  it('matches on the type alone without a filter', async () => {
    const open = { ...definition, trigger: { events: ['maxai.voice.call.ended'] } };
    await expect(matchesTrigger(open, event('completed'))).resolves.toBe(true);
  });
});

describe('concurrencyKeyOf', () => {
  it('evaluates the key as a string, or null', async () => {
    await expect(concurrencyKeyOf(definition, event('x'))).resolves.toBe('"+15550100001"');
    await expect(
      concurrencyKeyOf({ ...definition, concurrencyKey: 'event.none' }, event('x')),
    ).resolves.toBeNull();
    await expect(
      concurrencyKeyOf({ ...definition, concurrencyKey: 'null' }, event('x')),
    ).resolves.toBeNull();
    await expect(
      concurrencyKeyOf({ ...definition, concurrencyKey: undefined }, event('x')),
    ).resolves.toBeNull();
  });
});

describe('eventKeyOf and initialScope', () => {
  it('evaluates a wait step’s eventKey on the candidate alone', async () => {
    const step: WaitForEventStep = {
      id: 'w',
      type: 'wait_for_event',
      event: 'maxai.messaging.sms.received',
      correlate: { eventKey: '=event.data.from', runKey: 'x' },
      timeoutSeconds: 60,
      onTimeout: 'w',
    };
    await expect(eventKeyOf(step, event('x'))).resolves.toBe('+15550100001');
  });

  it('starts with the event, no steps, a copy of the vars and the run', () => {
    const scope = initialScope(definition, event('x'), { id: 'r1' });
    expect(scope).toEqual({
      event: event('x'),
      steps: {},
      vars: definition.vars,
      run: { id: 'r1' },
    });
    expect(scope.vars).not.toBe(definition.vars);
    expect(initialScope({ ...definition, vars: undefined }, event('x'))).toEqual({
      event: event('x'),
      steps: {},
      vars: {},
    });
  });
});
