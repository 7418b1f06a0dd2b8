import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STEP_CATALOGUE, STEP_TYPES } from './step-catalogue';
import { stepCatalogueMarkdown } from './step-catalogue-markdown';
import type { StepTypeSpec } from './step-spec';

describe('stepCatalogueMarkdown', () => {
  it('lists every step type with its port call and inputs', () => {
    const table = stepCatalogueMarkdown();
    expect(table.split('\n')).toHaveLength(STEP_TYPES.length + 2);
    expect(table).toContain(
      '| `crm.add_note` | crm.addNote | port | yes | no | contactId, body | Add a note to a contact. |',
    );
    expect(table).toContain('| `branch` | — | control | no | no | (its own fields) |');
    expect(table).not.toContain('**Not executable yet:**');
  });

  it('marks a step type whose port lacks its method', () => {
    const spec: StepTypeSpec = STEP_CATALOGUE['messaging.get_message'];
    spec.portGap = 'MessagingPort has no getMessage';
    try {
      expect(stepCatalogueMarkdown()).toContain(
        'Read one message (its delivery status). **Not executable yet:** the port lacks it. |',
      );
    } finally {
      delete spec.portGap;
    }
  });

  it('is published in docs/flows.md exactly as the code defines it', () => {
    const doc = readFileSync(path.resolve(__dirname, '../../../../../../docs/flows.md'), 'utf8');
    expect(doc).toContain(stepCatalogueMarkdown());
  });
});
