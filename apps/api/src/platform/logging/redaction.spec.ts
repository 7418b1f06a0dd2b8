import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { luhnValid, maskCardNumbers, maskCardNumbersDeep } from './redaction';

describe('card number masking', () => {
  it('masks Luhn-valid numbers in free text, keeping the last four digits', () => {
    expect(maskCardNumbers('my card is 4242 4242 4242 4242, exp 12/30')).toBe(
      'my card is [card:…4242], exp 12/30',
    );
    expect(maskCardNumbers('amex 3782-822463-10005')).toBe('amex [card:…0005]');
  });

  it('leaves other numbers alone', () => {
    expect(maskCardNumbers('call +1 415 555 0100 about order 1234567890123')).toBe(
      'call +1 415 555 0100 about order 1234567890123',
    );
    expect(maskCardNumbers('id 42424242424242424242424')).toBe('id 42424242424242424242424');
  });

  it('masks nested strings in objects and arrays', () => {
    const masked = maskCardNumbersDeep({ a: ['4111111111111111'], b: { c: 7, d: null } });
    expect(masked).toEqual({ a: ['[card:…1111]'], b: { c: 7, d: null } });
    const err = new Error('x');
    expect(maskCardNumbersDeep(err)).toBe(err);
  });

  it('never lets a Luhn-valid 16-digit number through', () => {
    const cardLike = fc
      .array(fc.integer({ min: 0, max: 9 }), { minLength: 15, maxLength: 15 })
      .map((digits) => {
        const body = digits.join('');
        const check = [...Array(10).keys()].find((d) => luhnValid(body + String(d)))!;
        return body + String(check);
      });
    fc.assert(
      fc.property(cardLike, fc.string(), (card, prefix) => {
        const text = `${prefix.replace(/\d/g, '')} ${card} end`;
        expect(maskCardNumbers(text)).not.toContain(card);
      }),
    );
  });
});
