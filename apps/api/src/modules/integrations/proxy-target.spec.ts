import { describe, expect, it } from 'vitest';
import { proxyTarget } from './proxy-target';

const BASE = 'http://127.0.0.1:4010/ghl';

describe('proxyTarget (the proxy SSRF guard)', () => {
  it.each([
    ['contacts/abc', '', 'http://127.0.0.1:4010/ghl/contacts/abc'],
    ['contacts/', 'query=ana&limit=5', 'http://127.0.0.1:4010/ghl/contacts/?query=ana&limit=5'],
    ['', '', 'http://127.0.0.1:4010/ghl/'],
    ['contacts/a%20b@x', '', 'http://127.0.0.1:4010/ghl/contacts/a%20b@x'],
  ])('keeps %j under the API root', (path, query, expected) => {
    expect(proxyTarget(BASE, path, query)?.href).toBe(expected);
  });

  it('works for a root without a path', () => {
    expect(proxyTarget('https://api.stripe.com', 'v1/customers', '')?.href).toBe(
      'https://api.stripe.com/v1/customers',
    );
  });

  it.each([
    '../twilio/2010-04-01/Accounts',
    'contacts/../../twilio',
    './contacts',
    '%2e%2e/twilio',
    '%2E%2E%2Ftwilio',
    'contacts%2f..%2f..%2ftwilio',
    '..%5ctwilio',
    '/evil.example/x',
    '//evil.example/x',
    'http://evil.example/x',
    'https:evil.example',
    'javascript:alert(1)',
    'contacts\\..\\..',
    'a\nb',
    'a%00b',
  ])('refuses %j', (path) => {
    expect(proxyTarget(BASE, path, '')).toBeUndefined();
  });
});
