import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { roleTableMarkdown } from './role-table';

it('is published in the README exactly as the code defines it', () => {
  const readme = readFileSync(path.resolve(__dirname, '../../../../../README.md'), 'utf8');
  expect(readme).toContain(roleTableMarkdown());
});
