import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMasterKey, SecretBox } from './secret-box';

/** Replaces one base64url part of a sealed value with a same-length part that differs. */
function tamper(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index] ?? '', 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 0xff;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('opens what it sealed, with and without a context', () => {
    const sealed = box.seal('a private key', 'signing-key:1');
    expect(sealed).not.toContain('a private key');
    expect(box.open(sealed, 'signing-key:1')).toBe('a private key');
    expect(box.open(box.seal('no context'))).toBe('no context');
    expect(box.open(box.seal(''))).toBe('');
  });

  it('formats a sealed value as v1.<keyId>.<iv>.<tag>.<ciphertext>', () => {
    const [version, keyId, iv, tag, ciphertext, ...rest] = box.seal('hello').split('.');
    expect(version).toBe('v1');
    expect(keyId).toBe(box.keyId);
    expect(box.keyId).toHaveLength(8);
    expect(Buffer.from(iv ?? '', 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag ?? '', 'base64url')).toHaveLength(16);
    expect(Buffer.from(ciphertext ?? '', 'base64url')).toHaveLength(5);
    expect(rest).toEqual([]);
  });

  it('uses a fresh IV for every seal', () => {
    const first = box.seal('same plaintext');
    const second = box.seal('same plaintext');
    expect(first.split('.')[2]).not.toBe(second.split('.')[2]);
    expect(first).not.toBe(second);
    expect(box.open(first)).toBe(box.open(second));
  });

  it('derives the same key id from the same key and another from another key', () => {
    const key = randomBytes(32);
    expect(new SecretBox(key).keyId).toBe(new SecretBox(Buffer.from(key)).keyId);
    expect(new SecretBox(randomBytes(32)).keyId).not.toBe(new SecretBox(key).keyId);
  });

  it('does not open a value under another context', () => {
    const sealed = box.seal('secret', 'signing-key:a');
    expect(() => box.open(sealed, 'signing-key:b')).toThrow();
    expect(() => box.open(sealed)).toThrow();
  });

  it.each([
    ['iv', 2],
    ['tag', 3],
    ['ciphertext', 4],
  ])('does not open a value whose %s was tampered with', (_part, index) => {
    const sealed = box.seal('secret', 'ctx');
    expect(() => box.open(tamper(sealed, index), 'ctx')).toThrow();
  });

  it('names the other master key when a value was sealed under it', () => {
    const other = new SecretBox(randomBytes(32));
    const sealed = other.seal('secret');
    expect(() => box.open(sealed)).toThrow(`sealed under an unknown master key (${other.keyId})`);
  });

  it.each([
    ['one part', 'x'],
    ['another version', 'v2.a.b.c.d'],
    ['no iv', 'v1.abcdefgh'],
    ['an empty iv', 'v1.abcdefgh..tag.ct'],
    ['no tag', 'v1.abcdefgh.iv'],
    ['an empty tag', 'v1.abcdefgh.iv..ct'],
    ['no ciphertext', 'v1.abcdefgh.iv.tag'],
    ['the empty string', ''],
  ])('refuses a malformed value (%s)', (_what, value) => {
    expect(() => box.open(value)).toThrow('not a sealed value');
  });

  it.each([0, 16, 31, 33, 64])('refuses a master key of %i bytes', (length) => {
    expect(() => new SecretBox(randomBytes(length))).toThrow(
      'the master key must be 32 bytes (AES-256)',
    );
  });
});

describe('loadMasterKey', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'secret-box-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns the bytes of MASTER_KEY when given, without touching the key file', () => {
    const key = randomBytes(32);
    const keyFile = path.join(dir, 'master.key');
    for (const production of [true, false]) {
      const loaded = loadMasterKey({ masterKey: key.toString('base64'), keyFile, production });
      expect(loaded.equals(key)).toBe(true);
    }
    expect(existsSync(keyFile)).toBe(false);
  });

  it('requires MASTER_KEY in production', () => {
    const keyFile = path.join(dir, 'master.key');
    expect(() => loadMasterKey({ keyFile, production: true })).toThrow(
      'MASTER_KEY is required in production',
    );
    expect(() => loadMasterKey({ masterKey: '', keyFile, production: true })).toThrow(
      'MASTER_KEY is required in production',
    );
    expect(existsSync(keyFile)).toBe(false);
  });

  it('creates a 0600 key file with a random key in a new directory, then reuses it', () => {
    const keyFile = path.join(dir, 'nested', 'data', 'master.key');
    const created = loadMasterKey({ keyFile, production: false });
    expect(created).toHaveLength(32);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, 'utf8')).toBe(`${created.toString('base64')}\n`);
    // The key opens a box.
    expect(new SecretBox(created).keyId).toHaveLength(8);

    const again = loadMasterKey({ keyFile, production: false });
    expect(again.equals(created)).toBe(true);
  });

  it('creates a different key in a different place', () => {
    const first = loadMasterKey({ keyFile: path.join(dir, 'a', 'master.key'), production: false });
    const second = loadMasterKey({ keyFile: path.join(dir, 'b', 'master.key'), production: false });
    expect(first.equals(second)).toBe(false);
  });

  it('reads an existing key file, ignoring surrounding whitespace', () => {
    const key = randomBytes(32);
    const keyFile = path.join(dir, 'master.key');
    writeFileSync(keyFile, `  ${key.toString('base64')}\n\n`);
    expect(loadMasterKey({ keyFile, production: false }).equals(key)).toBe(true);
    expect(loadMasterKey({ masterKey: undefined, keyFile, production: false }).equals(key)).toBe(
      true,
    );
  });
});

describe('SecretBox with previous master keys', () => {
  it('opens what an earlier key sealed and seals under the current one', () => {
    const old = randomBytes(32);
    const sealed = new SecretBox(old).seal('value', 'ctx');
    const rotated = new SecretBox(randomBytes(32), [old]);
    expect(rotated.open(sealed, 'ctx')).toBe('value');
    expect(rotated.seal('value', 'ctx').split('.')[1]).toBe(rotated.keyId);
    expect(() => new SecretBox(randomBytes(32), [randomBytes(16)])).toThrow(/32 bytes/);
  });
});
