import { describe, expect, it } from 'vitest';
import { onlyRow } from '../src';

describe('onlyRow', () => {
  it('returns the row', () => {
    expect(onlyRow([{ id: 1 }], 'a job')).toEqual({ id: 1 });
  });

  it('fails loudly, naming what was expected', () => {
    expect(() => onlyRow([], 'the inserted agent')).toThrow(
      'expected the inserted agent, got no row',
    );
  });
});
