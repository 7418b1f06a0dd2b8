import { describe, expect, it } from 'vitest';
import {
  hashPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  passwordProblems,
  verifyPassword,
} from './passwords';

const TOO_SHORT = `must be at least ${PASSWORD_MIN_LENGTH} characters`;
const TOO_LONG = `must be at most ${PASSWORD_MAX_LENGTH} characters`;
const COMMON = 'is one of the most common passwords';
const EMAIL_NAME = 'must not contain your email name';

describe('passwordProblems', () => {
  it('accepts a long, uncommon password unrelated to the email', () => {
    expect(passwordProblems('correct horse battery staple', 'alice@example.com')).toEqual([]);
  });

  it('refuses a password shorter than the minimum', () => {
    expect(passwordProblems('a'.repeat(PASSWORD_MIN_LENGTH - 1), 'bob@example.com')).toEqual([
      TOO_SHORT,
    ]);
    expect(passwordProblems('Xy7!kq2#Lm', 'bob@example.com')).toEqual([]);
  });

  it('refuses a password longer than the maximum', () => {
    expect(passwordProblems('z'.repeat(PASSWORD_MAX_LENGTH + 1), 'bob@example.com')).toEqual([
      TOO_LONG,
    ]);
    expect(passwordProblems('z'.repeat(PASSWORD_MAX_LENGTH), 'bob@example.com')).toEqual([]);
  });

  it.each(['1234567890', 'qwertyuiop', 'CHANGEME123', 'PassWord2024', 'Administrator'])(
    'refuses the common password %s whatever its case',
    (password) => {
      expect(passwordProblems(password, 'bob@example.com')).toEqual([COMMON]);
    },
  );

  it('refuses a password containing the email local part, in any case', () => {
    expect(passwordProblems('my-ALICE-password!', 'alice@example.com')).toEqual([EMAIL_NAME]);
    expect(passwordProblems('xx-alice-password', 'Alice@Example.com')).toEqual([EMAIL_NAME]);
    // Exactly four characters is long enough to be checked.
    expect(passwordProblems('unusual-dave-phrase', 'dave@example.com')).toEqual([EMAIL_NAME]);
  });

  it('does not check a local part shorter than four characters', () => {
    expect(passwordProblems('unusual-bob-phrase', 'bob@example.com')).toEqual([]);
    expect(passwordProblems('unusual-phrase', '@example.com')).toEqual([]);
  });

  it('checks the whole value when the email has no @', () => {
    expect(passwordProblems('hello-carol-there', 'carol')).toEqual([EMAIL_NAME]);
  });

  it('reports several problems at once', () => {
    expect(passwordProblems('password', 'password@example.com')).toEqual([
      TOO_SHORT,
      COMMON,
      EMAIL_NAME,
    ]);
    expect(passwordProblems(`erin${'e'.repeat(PASSWORD_MAX_LENGTH)}`, 'erin@example.com')).toEqual([
      TOO_LONG,
      EMAIL_NAME,
    ]);
  });
});

describe('hashPassword / verifyPassword', () => {
  it('hashes with argon2id, salted, and verifies only the right password', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash.startsWith('$argon2id$')).toBe(true);
    expect(hash).not.toContain('correct horse');
    expect(await hashPassword('correct horse battery staple')).not.toBe(hash);
    expect(await verifyPassword(hash, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse battery stapler')).toBe(false);
  });

  it('returns false without a hash, using the decoy (created once, then reused)', async () => {
    expect(await verifyPassword(null, 'anything at all')).toBe(false);
    expect(await verifyPassword(undefined, 'anything at all')).toBe(false);
    expect(await verifyPassword('', 'decoy-password-for-timing')).toBe(false);
  });
});
