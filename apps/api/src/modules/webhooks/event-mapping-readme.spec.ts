import { readFileSync } from 'node:fs';
import path from 'node:path';
import { eventMappingMarkdown } from '@maxai/integrations';
import { expect, it } from 'vitest';

it('publishes the webhook → CloudEvent mapping in the README exactly as the normalizers use it', () => {
  const readme = readFileSync(path.resolve(__dirname, '../../../../../README.md'), 'utf8');
  expect(readme).toContain(eventMappingMarkdown().trimEnd());
});
