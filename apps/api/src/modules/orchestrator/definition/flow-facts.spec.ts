import { describe, expect, it } from 'vitest';
import { hostAllowed, httpTargets, promptUses } from './flow-facts';
import type { FlowDefinition, FlowStep } from './flow-types';

const flow = (steps: FlowStep[]): FlowDefinition => ({
  schemaVersion: 1,
  name: 'f',
  trigger: { events: ['a.b'] },
  steps,
});

describe('httpTargets', () => {
  it('extracts literal hosts, lower-cased, and marks computed urls', () => {
    expect(
      httpTargets(
        flow([
          { id: 'a', type: 'http.request', inputs: { url: 'https://API.Example.com/x' } },
          { id: 'b', type: 'http.request', inputs: { url: '=vars.url' } },
          { id: 'c', type: 'crm.add_note', inputs: { url: 'https://ignored.example' } },
          { id: 'd', type: 'http.request', inputs: { url: 'not a url' } },
          { id: 'e', type: 'http.request' },
          { id: 'f', type: 'http.request', inputs: { url: '==x' } },
          { id: 'g', type: 'http.request', inputs: { url: 'mailto:a@b.example' } },
        ]),
      ),
    ).toEqual([
      { stepId: 'a', pointer: '/steps/0/inputs/url', host: 'api.example.com' },
      { stepId: 'b', pointer: '/steps/1/inputs/url', host: null },
      { stepId: 'd', pointer: '/steps/3/inputs/url', host: null },
      { stepId: 'e', pointer: '/steps/4/inputs/url', host: null },
      { stepId: 'f', pointer: '/steps/5/inputs/url', host: null },
      { stepId: 'g', pointer: '/steps/6/inputs/url', host: null },
    ]);
  });
});

describe('hostAllowed', () => {
  it.each([
    ['api.example.com', ['api.example.com'], true],
    ['API.example.com', ['api.EXAMPLE.com'], true],
    ['a.b.example.com', ['*.example.com'], true],
    ['example.com', ['*.example.com'], false],
    ['evilexample.com', ['*.example.com'], false],
    ['api.example.com', [], false],
  ])('%s with %j → %s', (host, allowlist, allowed) => {
    expect(hostAllowed(host, allowlist)).toBe(allowed);
  });
});

describe('promptUses', () => {
  it('lists each llm.generate prompt with its variables', () => {
    expect(
      promptUses(
        flow([
          {
            id: 'a',
            type: 'llm.generate',
            prompt: { key: 'k1', label: 'production' },
            variables: { x: 1, y: 2 },
          },
          { id: 'b', type: 'end' },
          { id: 'c', type: 'llm.generate', prompt: { key: 'k2', version: 3 } },
        ]),
      ),
    ).toEqual([
      { stepId: 'a', key: 'k1', label: 'production', variables: ['x', 'y'] },
      { stepId: 'c', key: 'k2', version: 3, variables: [] },
    ]);
  });
});
