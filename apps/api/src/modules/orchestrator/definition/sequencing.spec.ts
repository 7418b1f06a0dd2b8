import { describe, expect, it } from 'vitest';
import type { FlowDefinition, FlowStep } from './flow-types';
import { DEFAULT_RETRY, firstStep, nextStep, retryDelayMs } from './sequencing';

function flow(steps: FlowStep[]): FlowDefinition {
  return { schemaVersion: 1, name: 'f', trigger: { events: ['a.b'] }, steps };
}

const definition = flow([
  { id: 'a', type: 'set_vars', vars: { n: 1 } },
  { id: 'b', type: 'crm.add_note', next: 'd' },
  { id: 'c', type: 'end', status: 'cancelled' },
  { id: 'd', type: 'branch', conditions: [{ when: 'true', next: 'c' }] },
  {
    id: 'e',
    type: 'wait_for_event',
    event: 'x.y',
    correlate: { eventKey: 'k', runKey: 'k' },
    timeoutSeconds: 60,
    onTimeout: 'c',
  },
  { id: 'f', type: 'delay', duration: 60, maxIterations: 2, next: 'e' },
]);

describe('firstStep', () => {
  it('starts at the first step, counting it when it is bounded', () => {
    expect(firstStep(definition)).toEqual({ kind: 'run', stepId: 'a', loopCounters: {} });
    expect(firstStep(flow([{ id: 'x', type: 'end', maxIterations: 1 }]))).toEqual({
      kind: 'run',
      stepId: 'x',
      loopCounters: { x: 1 },
    });
    expect(firstStep(flow([]))).toEqual({ kind: 'end', status: 'completed' });
  });
});

describe('nextStep', () => {
  it('goes in array order, unless next says otherwise', () => {
    expect(nextStep(definition, 'a', { status: 'completed' }, {})).toMatchObject({ stepId: 'b' });
    expect(nextStep(definition, 'b', { status: 'completed' }, {})).toMatchObject({ stepId: 'd' });
  });

  it('continues after a skipped step as after a completed one', () => {
    expect(nextStep(definition, 'a', { status: 'skipped' }, {})).toMatchObject({ stepId: 'b' });
    expect(nextStep(definition, 'b', { status: 'skipped' }, {})).toMatchObject({ stepId: 'd' });
    // A skipped end step does not end the run.
    expect(nextStep(definition, 'c', { status: 'skipped' }, {})).toMatchObject({ stepId: 'd' });
  });

  it('follows the branch taken, or falls through when none was', () => {
    expect(nextStep(definition, 'd', { status: 'branched', next: 'c' }, {})).toMatchObject({
      stepId: 'c',
    });
    expect(nextStep(definition, 'd', { status: 'branched', next: null }, {})).toMatchObject({
      stepId: 'e',
    });
  });

  it('ends at an end step with its status, or after the last step', () => {
    expect(nextStep(definition, 'c', { status: 'completed' }, {})).toEqual({
      kind: 'end',
      status: 'cancelled',
    });
    const last = flow([
      { id: 'x', type: 'end' },
      { id: 'y', type: 'set_vars', vars: { a: 1 } },
    ]);
    expect(nextStep(last, 'x', { status: 'completed' }, {})).toEqual({
      kind: 'end',
      status: 'completed',
    });
    expect(nextStep(last, 'y', { status: 'completed' }, {})).toEqual({
      kind: 'end',
      status: 'completed',
    });
  });

  it('takes the timeout path of a wait, and fails other steps that time out', () => {
    expect(nextStep(definition, 'e', { status: 'timed_out' }, {})).toMatchObject({ stepId: 'c' });
    expect(nextStep(definition, 'e', { status: 'completed' }, {})).toMatchObject({ stepId: 'f' });
    expect(nextStep(definition, 'b', { status: 'timed_out' }, {})).toEqual({
      kind: 'fail',
      reason: 'step "b" timed out',
    });
  });

  it('counts starts of bounded steps and fails the run past maxIterations', () => {
    const once = nextStep(definition, 'e', { status: 'completed' }, {});
    expect(once).toEqual({ kind: 'run', stepId: 'f', loopCounters: { f: 1 } });
    const twice = nextStep(definition, 'e', { status: 'completed' }, { f: 1 });
    expect(twice).toEqual({ kind: 'run', stepId: 'f', loopCounters: { f: 2 } });
    expect(nextStep(definition, 'e', { status: 'completed' }, { f: 2 })).toEqual({
      kind: 'fail',
      reason: 'step "f" would start a 3th time; its maxIterations is 2',
    });
  });

  it('leaves the counters it is given untouched', () => {
    const counters = { f: 1 };
    nextStep(definition, 'e', { status: 'completed' }, counters);
    expect(counters).toEqual({ f: 1 });
  });

  it('fails on unknown steps', () => {
    expect(nextStep(definition, 'zz', { status: 'completed' }, {})).toEqual({
      kind: 'fail',
      reason: 'unknown step "zz"',
    });
    expect(nextStep(definition, 'd', { status: 'branched', next: 'zz' }, {})).toEqual({
      kind: 'fail',
      reason: 'unknown step "zz"',
    });
  });
});

describe('retryDelayMs', () => {
  const policy = { maxAttempts: 4, backoff: { initialMs: 100, maxMs: 250, multiplier: 2 } };

  it('backs off exponentially up to the cap, then gives up', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(policy, attempt))).toEqual([
      100,
      200,
      250,
      null,
    ]);
  });

  it('uses the default policy when the step sets none', () => {
    expect(retryDelayMs(undefined, 1)).toBe(DEFAULT_RETRY.backoff.initialMs);
    expect(retryDelayMs(undefined, DEFAULT_RETRY.maxAttempts)).toBeNull();
  });
});
