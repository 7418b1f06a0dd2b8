import { describe, expect, it } from 'vitest';
import { callFields, resolveInputs } from './call-fields';
import type { FlowStep } from './flow-types';

const scope = { event: { data: { from: '+15550100001' } }, steps: {}, vars: { who: 'Ana' } };

describe('callFields', () => {
  it('are the inputs of a port call', () => {
    const step: FlowStep = {
      id: 's',
      type: 'crm.add_note',
      inputs: { contactId: 'c', body: '=vars.who' },
    };
    expect(callFields(step)).toEqual([
      { name: 'contactId', value: 'c', pointer: '/inputs/contactId' },
      { name: 'body', value: '=vars.who', pointer: '/inputs/body' },
    ]);
    expect(callFields({ id: 's', type: 'crm.get_contact' })).toEqual([]);
  });

  it('are prompt, variables and model for llm.generate', () => {
    expect(
      callFields({
        id: 's',
        type: 'llm.generate',
        prompt: { key: 'k' },
        variables: { a: 1 },
        model: { maxTokens: 5 },
      }).map((f) => [f.name, f.pointer]),
    ).toEqual([
      ['prompt', '/prompt'],
      ['variables', '/variables'],
      ['model', '/model'],
    ]);
    expect(callFields({ id: 's', type: 'llm.generate', prompt: { key: 'k' } })).toHaveLength(1);
  });

  it('are workflow, mode and payload for n8n.delegate', () => {
    const base = { id: 's', type: 'n8n.delegate', workflow: 'w', mode: 'sync' } as const;
    expect(callFields({ ...base, inputs: { payload: { a: 1 } } }).map((f) => f.pointer)).toEqual([
      '/workflow',
      '/mode',
      '/inputs/payload',
    ]);
    expect(callFields({ ...base, inputs: {} })).toHaveLength(2);
  });

  it('are the assigned variables for set_vars, and nothing for other control steps', () => {
    expect(callFields({ id: 's', type: 'set_vars', vars: { a: '=1' } })).toEqual([
      { name: 'a', value: '=1', pointer: '/vars/a' },
    ]);
    for (const step of [
      { id: 's', type: 'end' },
      { id: 's', type: 'delay', duration: 60 },
      { id: 's', type: 'branch', conditions: [{ when: 'true', next: 's' }] },
      {
        id: 's',
        type: 'wait_for_event',
        event: 'a.b',
        correlate: { eventKey: 'x', runKey: 'y' },
        timeoutSeconds: 60,
        onTimeout: 's',
      },
    ] as FlowStep[]) {
      expect(callFields(step)).toEqual([]);
    }
  });
});

describe('resolveInputs', () => {
  it('resolves every field, locating failures under the step pointer', async () => {
    const step: FlowStep = {
      id: 's',
      type: 'llm.generate',
      prompt: { key: 'k', label: 'production' },
      variables: { caller: '=event.data.from', name: '=vars.who', none: '=vars.none' },
    };
    await expect(resolveInputs(step, scope)).resolves.toEqual({
      prompt: { key: 'k', label: 'production' },
      variables: { caller: '+15550100001', name: 'Ana' },
    });
    await expect(
      resolveInputs(
        { id: 's', type: 'set_vars', vars: { a: '=vars.none', b: '=1 +' } },
        scope,
        '/steps/4',
      ),
    ).rejects.toMatchObject({ pointer: '/steps/4/vars/b' });
    await expect(
      resolveInputs({ id: 's', type: 'set_vars', vars: { a: '=vars.none' } }, scope),
    ).resolves.toEqual({});
  });
});
