import { expect, it } from 'vitest';
import { present } from './present';

it('passes values through and throws on a missing one', () => {
  expect(present(0, 'zero')).toBe(0);
  expect(present('', 'empty')).toBe('');
  expect(() => present(undefined, 'step 3')).toThrow('internal: step 3 is missing');
  expect(() => present(null, 'x')).toThrow('internal: x is missing');
});
