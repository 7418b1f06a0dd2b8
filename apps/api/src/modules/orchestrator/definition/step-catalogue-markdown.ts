import type { z } from 'zod';
import { inputNames } from './input-checks';
import { STEP_CATALOGUE } from './step-catalogue';

function inputList(schema: z.ZodObject): string {
  const { all, required } = inputNames(schema);
  return all.map((name) => (required.includes(name) ? name : `${name}?`)).join(', ');
}

/** The step catalogue as a Markdown table, as docs/flows.md publishes it (a test keeps it true). */
export function stepCatalogueMarkdown(): string {
  const rows = Object.entries(STEP_CATALOGUE).map(([type, spec]) => {
    const call = spec.port === null ? '—' : `${spec.port}.${String(spec.method)}`;
    const inputs = spec.input === null ? '(its own fields)' : inputList(spec.input);
    const gap = spec.portGap === undefined ? '' : ' **Not executable yet:** the port lacks it.';
    return `| \`${type}\` | ${call} | ${spec.execution} | ${spec.sideEffecting ? 'yes' : 'no'} | ${spec.costBearing ? 'yes' : 'no'} | ${inputs} | ${spec.summary}${gap} |`;
  });
  return [
    '| type | port call | runs as | side effects | billed | inputs (`?` optional) | what it does |',
    '| --- | --- | --- | :-: | :-: | --- | --- |',
    ...rows,
  ].join('\n');
}
