import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_STEPS } from './flow-schema';
import type { FlowIssue } from './flow-types';
import { STEP_CATALOGUE } from './step-catalogue';
import type { StepTypeSpec } from './step-spec';
import { MAX_DOCUMENT_DEPTH, validateFlow } from './validate-flow';

type Doc = Record<string, unknown>;

/** A valid flow touching most features; each test breaks one thing. */
function goodFlow(): Doc {
  return {
    schemaVersion: 1,
    name: 'Demo',
    description: 'Everything at once',
    trigger: { events: ['maxai.messaging.sms.received'], filter: "event.data.body != ''" },
    vars: { optOutTag: 'sms-opt-out', tries: 0 },
    timeoutSeconds: 3600,
    concurrencyKey: '=event.data.from',
    steps: [
      { id: 'contact', type: 'crm.upsert_contact', inputs: { phone: '=event.data.from' } },
      {
        id: 'route',
        type: 'branch',
        conditions: [{ when: 'vars.optOutTag in steps.contact.output.contact.tags', next: 'stop' }],
      },
      { id: 'count', type: 'set_vars', vars: { tries: '=vars.tries + 1' }, maxIterations: 3 },
      {
        id: 'compose',
        type: 'llm.generate',
        prompt: { key: 'sms-reply', label: 'production' },
        variables: { message: '=event.data.body', tries: '=vars.tries' },
        model: { maxTokens: 100 },
        retry: { maxAttempts: 3, backoff: { initialMs: 500, maxMs: 5000, multiplier: 2 } },
        timeoutSeconds: 30,
      },
      {
        id: 'reply',
        type: 'messaging.send_sms',
        when: '$not(vars.optOutTag in steps.contact.output.contact.tags)',
        inputs: {
          from: '=event.data.to',
          to: '=event.data.from',
          body: '=steps.compose.output.text',
        },
      },
      {
        id: 'wait',
        type: 'wait_for_event',
        event: 'maxai.messaging.sms.received',
        correlate: { eventKey: 'event.data.from', runKey: '=event.data.from' },
        timeoutSeconds: 86_400,
        onTimeout: 'nudge',
      },
      {
        id: 'again',
        type: 'branch',
        conditions: [{ when: "steps.wait.output.event.data.body = 'again'", next: 'count' }],
        otherwise: 'stop',
      },
      { id: 'nudge', type: 'delay', duration: 'PT15M' },
      {
        id: 'hook',
        type: 'n8n.delegate',
        workflow: 'crm/sync',
        mode: 'callback',
        inputs: { payload: { c: '=steps.contact.output' } },
      },
      {
        id: 'call',
        type: 'http.request',
        inputs: { method: 'POST', url: 'https://hooks.example.com/x', body: { a: 1 } },
      },
      { id: 'stop', type: 'end', status: 'completed' },
    ],
  };
}

function withStep(index: number, patch: Doc, doc = goodFlow()): Doc {
  const steps = doc.steps as Doc[];
  steps[index] = { ...steps[index], ...patch };
  return doc;
}

function errorsOf(input: unknown, options = {}): FlowIssue[] {
  const result = validateFlow(input, options);
  return result.ok ? [] : result.errors;
}

describe('validateFlow: valid documents', () => {
  it('accepts a flow using every kind of step', () => {
    const result = validateFlow(goodFlow());
    expect(result).toMatchObject({ ok: true, warnings: [] });
    expect(result.ok && result.definition.name).toBe('Demo');
  });

  it('accepts the smallest flow', () => {
    expect(
      validateFlow({
        schemaVersion: 1,
        name: 'x',
        trigger: { events: ['a.b'] },
        steps: [{ id: 'a', type: 'end' }],
      }),
    ).toMatchObject({ ok: true });
  });

  it('warns about steps no path reaches', () => {
    const doc = goodFlow();
    (doc.steps as Doc[]).splice(10, 0, { id: 'orphan', type: 'end' });
    (doc.steps as Doc[])[9] = { ...(doc.steps as Doc[])[9], next: 'stop' };
    expect(validateFlow(doc)).toMatchObject({
      ok: true,
      warnings: [{ pointer: '/steps/10', message: 'step "orphan" is never reached' }],
    });
  });
});

describe('validateFlow: schema errors come with pointers', () => {
  it.each<[string, (d: Doc) => unknown, FlowIssue[]]>([
    ['not an object', () => [], [{ pointer: '', message: 'must be object' }]],
    [
      'a missing name',
      (d) => ({ ...d, name: undefined }),
      [{ pointer: '/name', message: 'is required' }],
    ],
    [
      'another schema version',
      (d) => ({ ...d, schemaVersion: 2 }),
      [{ pointer: '/schemaVersion', message: 'must be 1' }],
    ],
    [
      'an unknown top-level field',
      (d) => ({ ...d, extra: 1 }),
      [{ pointer: '/extra', message: 'is not allowed here' }],
    ],
    [
      'no trigger events',
      (d) => ({ ...d, trigger: { events: [] } }),
      [{ pointer: '/trigger/events', message: 'must NOT have fewer than 1 items' }],
    ],
    [
      'a bad event type',
      (d) => ({ ...d, trigger: { events: ['nodots'] } }),
      [
        {
          pointer: '/trigger/events/0',
          message: expect.stringContaining('must match pattern') as string,
        },
      ],
    ],
    [
      'no steps',
      (d) => ({ ...d, steps: [] }),
      [{ pointer: '/steps', message: 'must NOT have fewer than 1 items' }],
    ],
    [
      'too many steps',
      (d) => ({
        ...d,
        steps: Array.from({ length: MAX_STEPS + 1 }, (_, i) => ({ id: `s${i}`, type: 'end' })),
      }),
      [{ pointer: '/steps', message: `must NOT have more than ${MAX_STEPS} items` }],
    ],
    [
      'an unknown step type',
      (d) => withStep(2, { type: 'crm.delete_everything' }, d),
      [{ pointer: '/steps/2/type', message: 'unknown step type "crm.delete_everything"' }],
    ],
    [
      'a bad step id',
      (d) => withStep(0, { id: 'Contact' }, d),
      [
        {
          pointer: '/steps/0/id',
          message: expect.stringContaining('must match pattern') as string,
        },
      ],
    ],
    [
      'a field of another step type',
      (d) => withStep(10, { duration: 60 }, d),
      [{ pointer: '/steps/10/duration', message: 'is not allowed here' }],
    ],
    [
      'next on a branch',
      (d) => withStep(1, { next: 'stop' }, d),
      [{ pointer: '/steps/1/next', message: 'is not allowed here' }],
    ],
    [
      'a missing prompt',
      (d) => withStep(3, { prompt: undefined }, d),
      [{ pointer: '/steps/3/prompt', message: 'is required' }],
    ],
    [
      'an expression as prompt key',
      (d) => withStep(3, { prompt: { key: '=vars.k' } }, d),
      [
        {
          pointer: '/steps/3/prompt/key',
          message: expect.stringContaining('must match pattern') as string,
        },
      ],
    ],
    [
      'a bad input name',
      (d) => withStep(0, { inputs: { 'phone number': 'x' } }, d),
      [
        {
          pointer: '/steps/0/inputs/phone number',
          message: expect.stringContaining('not a valid name') as string,
        },
      ],
    ],
    [
      'a bad duration',
      (d) => withStep(7, { duration: 'PT15' }, d),
      [
        {
          pointer: '/steps/7/duration',
          message: expect.stringContaining('ISO 8601 duration') as string,
        },
      ],
    ],
    [
      'a bad mode',
      (d) => withStep(8, { mode: 'async' }, d),
      [{ pointer: '/steps/8/mode', message: 'must be one of "sync", "callback"' }],
    ],
    [
      'too many attempts',
      (d) =>
        withStep(
          3,
          { retry: { maxAttempts: 11, backoff: { initialMs: 1, maxMs: 1, multiplier: 1 } } },
          d,
        ),
      [{ pointer: '/steps/3/retry/maxAttempts', message: 'must be <= 10' }],
    ],
    [
      'a missing type',
      (d) => withStep(0, { type: undefined }, d),
      [{ pointer: '/steps/0/type', message: 'is required' }],
    ],
    [
      'an odd key',
      (d) => ({ ...d, 'a/b~c': 1 }),
      [{ pointer: '/a~1b~0c', message: 'is not allowed here' }],
    ],
  ])('%s', (_, mutate, expected) => {
    const doc = JSON.parse(JSON.stringify(mutate(goodFlow()))) as unknown;
    expect(errorsOf(doc)).toEqual(expected);
  });

  it('refuses documents nested deeper than the limit before walking them', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < MAX_DOCUMENT_DEPTH + 5; i += 1) deep = { a: deep };
    const errors = errorsOf({ ...goodFlow(), vars: { deep } });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.pointer).toMatch(/^\/vars\/deep(\/a)+$/);
    expect(errors[0]?.message).toBe(`nests deeper than ${MAX_DOCUMENT_DEPTH} levels`);
  });
});

describe('validateFlow: semantic errors come with pointers', () => {
  it.each<[string, (d: Doc) => Doc, FlowIssue[]]>([
    [
      'a duplicate step id',
      (d) => withStep(2, { id: 'contact' }, d),
      [
        { pointer: '/steps/2/id', message: 'duplicates the id of /steps/0' },
        { pointer: '/steps/6/conditions/0/next', message: 'refers to unknown step "count"' },
      ],
    ],
    [
      'next to an unknown step',
      (d) => withStep(0, { next: 'nowhere' }, d),
      [{ pointer: '/steps/0/next', message: 'refers to unknown step "nowhere"' }],
    ],
    [
      'a branch to an unknown step',
      (d) => withStep(1, { conditions: [{ when: 'true', next: 'nowhere' }] }, d),
      [{ pointer: '/steps/1/conditions/0/next', message: 'refers to unknown step "nowhere"' }],
    ],
    [
      'otherwise to an unknown step',
      (d) => withStep(6, { otherwise: 'nowhere' }, d),
      [{ pointer: '/steps/6/otherwise', message: 'refers to unknown step "nowhere"' }],
    ],
    [
      'onTimeout to an unknown step',
      (d) => withStep(5, { onTimeout: 'nowhere' }, d),
      [{ pointer: '/steps/5/onTimeout', message: 'refers to unknown step "nowhere"' }],
    ],
    [
      'a delay under a minute',
      (d) => withStep(7, { duration: 'PT30S' }, d),
      [
        {
          pointer: '/steps/7/duration',
          message: 'must be between one minute and 30 days (it is 30 s)',
        },
      ],
    ],
    [
      'a delay over 30 days',
      (d) => withStep(7, { duration: 'P31D' }, d),
      [
        {
          pointer: '/steps/7/duration',
          message: 'must be between one minute and 30 days (it is 2678400 s)',
        },
      ],
    ],
    [
      'a backoff cap under its start',
      (d) =>
        withStep(
          3,
          { retry: { maxAttempts: 2, backoff: { initialMs: 500, maxMs: 100, multiplier: 2 } } },
          d,
        ),
      [{ pointer: '/steps/3/retry/backoff/maxMs', message: 'must not be below initialMs (500)' }],
    ],
    [
      'an expression that does not compile',
      (d) => withStep(4, { inputs: { from: '=event.data.to', to: '=event.data.', body: 'x' } }, d),
      [
        {
          pointer: '/steps/4/inputs/to',
          message: expect.stringMatching(/^does not compile: .*\(at position \d+\)$/) as string,
        },
      ],
    ],
    [
      'a condition that does not compile',
      (d) => withStep(1, { conditions: [{ when: 'a ++ b', next: 'stop' }] }, d),
      [
        {
          pointer: '/steps/1/conditions/0/when',
          message: expect.stringContaining('does not compile') as string,
        },
      ],
    ],
    [
      'a filter that does not compile',
      (d) => ({ ...d, trigger: { events: ['a.b'], filter: '(' } }),
      [
        {
          pointer: '/trigger/filter',
          message: expect.stringContaining('does not compile') as string,
        },
      ],
    ],
    [
      'a reference to an unknown step',
      (d) => withStep(4, { when: 'steps.nobody.output' }, d),
      [{ pointer: '/steps/4/when', message: 'refers to unknown step "nobody"' }],
    ],
    [
      'a reference to a later step',
      (d) => withStep(0, { inputs: { phone: '=steps.compose.output.text' } }, d),
      [
        {
          pointer: '/steps/0/inputs/phone',
          message: 'reads steps.compose, which cannot have run before this step',
        },
      ],
    ],
    [
      'a step reading itself outside a loop',
      (d) => withStep(0, { inputs: { phone: '=$$.steps.contact.output' } }, d),
      [
        {
          pointer: '/steps/0/inputs/phone',
          message: 'reads steps.contact, which cannot have run before this step',
        },
      ],
    ],
    [
      'a step reading a step of another path',
      (d) => withStep(7, { when: 'steps.again.output' }, d),
      [],
    ],
    [
      'steps in the trigger filter',
      (d) => ({ ...d, trigger: { events: ['a.b'], filter: 'steps.contact.output' } }),
      [
        {
          pointer: '/trigger/filter',
          message: 'runs before any step: steps.contact is not available',
        },
      ],
    ],
    [
      'steps in the concurrency key',
      (d) => ({ ...d, concurrencyKey: '$steps.contact.output' }),
      [
        {
          pointer: '/concurrencyKey',
          message: 'runs before any step: steps.contact is not available',
        },
      ],
    ],
    [
      'run state in an eventKey',
      (d) => withStep(5, { correlate: { eventKey: 'vars.x', runKey: 'event.data.from' } }, d),
      [
        {
          pointer: '/steps/5/correlate/eventKey',
          message: 'an eventKey sees only the candidate event, not vars',
        },
      ],
    ],
    [
      'a missing required input',
      (d) => withStep(4, { inputs: { from: '=event.data.to', to: '=event.data.from' } }, d),
      [{ pointer: '/steps/4/inputs', message: 'needs input "body"' }],
    ],
    [
      'an unknown input',
      (d) => withStep(0, { inputs: { phone: '=event.data.from', fax: '1' } }, d),
      [
        {
          pointer: '/steps/0/inputs/fax',
          message: expect.stringContaining(
            'is not an input of crm.upsert_contact (it takes firstName,',
          ) as string,
        },
      ],
    ],
    [
      'a literal input its schema refuses',
      (d) => withStep(4, { inputs: { from: '5551234', to: '=event.data.from', body: 'x' } }, d),
      [{ pointer: '/steps/4/inputs/from', message: 'must be an E.164 number (+15551234567)' }],
    ],
    [
      'a literal nested input its schema refuses',
      (d) =>
        withStep(9, { inputs: { method: 'GET', url: 'https://x.example', headers: { a: 1 } } }, d),
      [
        {
          pointer: '/steps/9/inputs/headers/a',
          message: expect.stringContaining('expected string') as string,
        },
      ],
    ],
    [
      'a literal url that is not http',
      (d) => withStep(9, { inputs: { url: 'ftp://x.example/a' } }, d),
      [{ pointer: '/steps/9/inputs/url', message: expect.stringContaining('URL') as string }],
    ],
  ])('%s', (_, mutate, expected) => {
    expect(errorsOf(mutate(goodFlow()))).toEqual(expected);
  });

  it('allows a bounded loop, and a step reading itself inside it', () => {
    const doc = withStep(2, {
      vars: { tries: '=vars.tries + 1', last: '=steps.count.output.tries' },
    });
    expect(errorsOf(doc)).toEqual([]);
  });

  it.each<[string, (d: Doc) => Doc, string, string]>([
    [
      'a jump back to an unbounded step',
      (d) => withStep(2, { maxIterations: undefined }, d),
      '/steps/6/conditions/0/next',
      'closes the loop count → compose → reply → wait → again → count without a bound: give step "count" maxIterations',
    ],
    [
      'a next onto itself',
      (d) => withStep(7, { next: 'nudge' }, d),
      '/steps/7/next',
      'closes the loop nudge → nudge without a bound: give step "nudge" maxIterations',
    ],
    [
      'an onTimeout back to its wait',
      (d) => withStep(5, { onTimeout: 'wait' }, d),
      '/steps/5/onTimeout',
      'closes the loop wait → wait without a bound: give step "wait" maxIterations',
    ],
    [
      'a skippable end jumping back',
      (d) =>
        withStep(
          10,
          { when: 'true' },
          withStep(
            9,
            { next: 'stop' },
            {
              ...d,
              steps: [
                ...(d.steps as Doc[]),
                { id: 'back', type: 'set_vars', vars: { a: 1 }, next: 'stop' },
              ],
            },
          ),
        ),
      '/steps/11/next',
      'closes the loop stop → back → stop without a bound: give step "stop" maxIterations',
    ],
  ])('refuses %s', (_, mutate, pointer, message) => {
    expect(errorsOf(mutate(goodFlow()))).toEqual([{ pointer, message }]);
  });
});

describe('validateFlow: what the tenant lacks', () => {
  const all = ['crm', 'calendar', 'voice', 'messaging', 'llm', 'workflow'] as const;

  it('warns at save and refuses at activation a port without a binding, once per port', () => {
    const boundPorts = ['crm', 'llm'] as const;
    const missing = [
      { pointer: '/steps/4/type', message: 'needs a messaging binding, which is not set up' },
      { pointer: '/steps/8/type', message: 'needs a workflow binding, which is not set up' },
    ];
    expect(validateFlow(goodFlow(), { boundPorts })).toMatchObject({ ok: true, warnings: missing });
    expect(validateFlow(goodFlow(), { boundPorts, phase: 'activate' })).toMatchObject({
      ok: false,
      errors: missing,
    });
    expect(validateFlow(goodFlow(), { boundPorts: all, phase: 'activate' })).toMatchObject({
      ok: true,
    });
  });

  it('checks literal http hosts against the allowlist; computed urls only warn', () => {
    const doc = goodFlow();
    (doc.steps as Doc[]).splice(10, 0, {
      id: 'dynamic',
      type: 'http.request',
      inputs: { url: '=vars.url' },
    });
    const computed = {
      pointer: '/steps/10/inputs/url',
      message: 'the url is computed: its host is checked at each request',
    };
    expect(validateFlow(doc, { allowedHosts: ['*.example.com'], phase: 'activate' })).toMatchObject(
      { ok: true, warnings: [computed] },
    );
    expect(
      validateFlow(doc, { allowedHosts: ['hooks.example.org'], phase: 'activate' }),
    ).toMatchObject({
      ok: false,
      errors: [
        {
          pointer: '/steps/9/inputs/url',
          message: 'host hooks.example.com is not on the allowlist',
        },
      ],
      warnings: [computed],
    });
    expect(validateFlow(doc, { allowedHosts: [] })).toMatchObject({
      ok: true,
      warnings: [
        {
          pointer: '/steps/9/inputs/url',
          message: 'host hooks.example.com is not on the allowlist',
        },
        computed,
      ],
    });
  });

  it('refuses at activation steps whose port method does not exist yet', () => {
    // No step type lacks its port method today: give one a gap for the length of the test.
    const spec: StepTypeSpec = STEP_CATALOGUE['messaging.get_message'];
    spec.portGap = 'MessagingPort has no getMessage';
    try {
      const doc = withStep(0, {
        type: 'messaging.get_message',
        inputs: { messageId: '=event.data.messageId' },
      });
      (doc.steps as Doc[])[1] = {
        id: 'route',
        type: 'branch',
        conditions: [{ when: 'true', next: 'stop' }],
      };
      (doc.steps as Doc[])[4] = { ...(doc.steps as Doc[])[4], when: 'true' };
      const gap = {
        pointer: '/steps/0/type',
        message: 'messaging.get_message cannot run yet: MessagingPort has no getMessage',
      };
      expect(validateFlow(doc)).toMatchObject({ ok: true, warnings: [gap] });
      expect(validateFlow(doc, { phase: 'activate', boundPorts: all })).toMatchObject({
        ok: false,
        errors: [gap],
      });
    } finally {
      delete spec.portGap;
    }
  });
});

/** Whether `pointer` is an RFC 6901 pointer whose parent exists in `doc`. */
function parentResolves(doc: unknown, pointer: string): boolean {
  if (pointer === '') return true;
  if (!pointer.startsWith('/') || /~[^01]|~$/.test(pointer)) return false;
  const tokens = pointer
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
  let node = doc;
  for (const token of tokens.slice(0, -1)) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, token)) return false;
    node = (node as Record<string, unknown>)[token];
  }
  return typeof node === 'object' && node !== null;
}

describe('validateFlow: properties', () => {
  const check = (doc: unknown) => {
    const result = validateFlow(doc);
    if (result.ok) return;
    expect(result.errors.length).toBeGreaterThan(0);
    for (const error of result.errors) {
      expect(parentResolves(doc, error.pointer), error.pointer).toBe(true);
      expect(error.message.length).toBeGreaterThan(0);
    }
  };

  it('never throws on random JSON, and every error points into the document', () => {
    fc.assert(fc.property(fc.jsonValue(), check), { numRuns: 300 });
  });

  it('never throws on mutated valid flows, and every error points into the document', () => {
    const leaf = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(
        '=steps.contact.output',
        '=(',
        'end',
        'stop',
        'crm.add_note',
        'P1D',
        '=$$.steps.x',
        'branch',
      ),
    );
    const key = fc.constantFrom(
      'id',
      'type',
      'next',
      'when',
      'inputs',
      'duration',
      'conditions',
      'vars',
      'otherwise',
      'onTimeout',
      'maxIterations',
      'filter',
      'events',
      'prompt',
      'x',
    );
    const mutation = fc.tuple(fc.nat(12), key, leaf);
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const doc = goodFlow();
        for (const [index, field, value] of mutations) {
          if (index === 12) (doc.trigger as Doc)[field] = value;
          else if (index === 11) doc[field] = value;
          else withStep(index, { [field]: value }, doc);
        }
        check(doc);
      }),
      { numRuns: 400 },
    );
  });
});
