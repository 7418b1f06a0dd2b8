import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STEP_TYPES } from './step-catalogue';
import { stepCatalogueMarkdown } from './step-catalogue-markdown';

describe('stepCatalogueMarkdown', () => {
  it('lists every step type with its port call and inputs', () => {
    const table = stepCatalogueMarkdown();
    expect(table.split('\n')).toHaveLength(STEP_TYPES.length + 2);
    expect(table).toContain(
      '| `crm.add_note` | crm.addNote | port | yes | no | contactId, body | Add a note to a contact. |',
    );
    expect(table).toContain('| `branch` | — | control | no | no | (its own fields) |');
    expect(table).toContain('**Not executable yet:**');
  });

  it('is published in docs/flows.md exactly as the code defines it', () => {
    const doc = readFileSync(path.resolve(__dirname, '../../../../../../docs/flows.md'), 'utf8');
    expect(doc).toContain(stepCatalogueMarkdown());
  });
});
