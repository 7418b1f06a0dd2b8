import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { verify as retellSdkVerify } from 'retell-sdk';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import {
  expectedTwilioSignature,
  validateTwilioSignature,
  validateTwilioSignatureWithBody,
  verifyRetellSignature,
} from '@maxai/integrations';

describe('validateTwilioSignature', () => {
  const token = '12345';
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = {
    CallSid: 'CA1234567890ABCDE',
    Caller: '+12349013030',
    Digits: '1234',
    From: '+12349013030',
    To: '+18005551212',
  };

  it("matches Twilio's documented example (twilio.com/docs/usage/webhooks/webhooks-security)", () => {
    expect(expectedTwilioSignature(token, url, params)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    expect(validateTwilioSignature(token, url, params, '0/KCTR6DLpKmkAf8muzZqo1nDgQ=')).toBe(true);
  });

  it('refuses a wrong, missing or other-token signature', () => {
    const good = expectedTwilioSignature(token, url, params);
    expect(validateTwilioSignature(token, url, params, undefined)).toBe(false);
    expect(validateTwilioSignature(token, url, params, 'short')).toBe(false);
    expect(validateTwilioSignature('other', url, params, good)).toBe(false);
    expect(validateTwilioSignature(token, url, { ...params, Digits: '9' }, good)).toBe(false);
  });

  it('accepts the URL with or without the default port, as the SDK does', () => {
    const signedWithPort = expectedTwilioSignature(
      token,
      'https://mycompany.com:443/myapp',
      params,
    );
    expect(
      validateTwilioSignature(token, 'https://mycompany.com/myapp', params, signedWithPort),
    ).toBe(true);
    const signedWithout = expectedTwilioSignature(token, 'http://mycompany.com/a', params);
    expect(validateTwilioSignature(token, 'http://mycompany.com:80/a', params, signedWithout)).toBe(
      true,
    );
    expect(
      validateTwilioSignature(
        token,
        'not a url',
        {},
        expectedTwilioSignature(token, 'not a url', {}),
      ),
    ).toBe(true);
  });

  it('agrees with twilio.getExpectedTwilioSignature / validateRequest on any params, arrays included', () => {
    const value = fc.oneof(fc.string(), fc.array(fc.string(), { minLength: 1, maxLength: 3 }));
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), value), (p) => {
        const theirs = twilio.getExpectedTwilioSignature(token, url, p);
        expect(expectedTwilioSignature(token, url, p)).toBe(theirs);
        expect(twilio.validateRequest(token, theirs, url, p)).toBe(true);
      }),
    );
    expect(expectedTwilioSignature(token, url, { a: undefined, b: 'x' })).toBe(
      twilio.getExpectedTwilioSignature(token, url, { b: 'x' }),
    );
  });

  it('checks the JSON-body variant: signature over the URL and the bodySHA256 hash', () => {
    const body = '{"MessageSid":"SM1"}';
    const hash = twilio.getExpectedBodyHash(body);
    const signedUrl = `https://platform.example/webhooks/twilio?bodySHA256=${hash}`;
    const signature = twilio.getExpectedTwilioSignature(token, signedUrl, {});
    expect(validateTwilioSignatureWithBody(token, signedUrl, body, signature)).toBe(true);
    expect(validateTwilioSignatureWithBody(token, signedUrl, `${body} `, signature)).toBe(false);
    expect(validateTwilioSignatureWithBody(token, signedUrl, body, 'nope')).toBe(false);
    expect(
      validateTwilioSignatureWithBody(token, 'https://platform.example/x', body, signature),
    ).toBe(false);
    expect(validateTwilioSignatureWithBody(token, 'not a url', body, signature)).toBe(false);
  });
});

describe('verifyRetellSignature', () => {
  const vector = {
    body: '{"event":"call_ended"}',
    key: 'test-api-key',
    v: 1_700_000_000_000,
    d: '07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e',
  };
  const header = `v=${String(vector.v)},d=${vector.d}`;

  it("passes Retell's published test vector", () => {
    expect(verifyRetellSignature(vector.key, vector.body, header, vector.v)).toBe(true);
    expect(
      verifyRetellSignature(
        vector.key,
        vector.body,
        header.toUpperCase().replace('V=', 'v=').replace(',D=', ',d='),
        vector.v,
      ),
    ).toBe(true);
  });

  it('accepts ±5 minutes, refuses beyond', () => {
    expect(verifyRetellSignature(vector.key, vector.body, header, vector.v + 300_000)).toBe(true);
    expect(verifyRetellSignature(vector.key, vector.body, header, vector.v - 300_000)).toBe(true);
    expect(verifyRetellSignature(vector.key, vector.body, header, vector.v + 300_001)).toBe(false);
    expect(verifyRetellSignature(vector.key, vector.body, header, vector.v - 300_001)).toBe(false);
  });

  it('refuses another key, another body, malformed headers', () => {
    expect(verifyRetellSignature('other', vector.body, header, vector.v)).toBe(false);
    expect(verifyRetellSignature(vector.key, '{"event":"call_started"}', header, vector.v)).toBe(
      false,
    );
    expect(verifyRetellSignature(vector.key, vector.body, undefined, vector.v)).toBe(false);
    expect(
      verifyRetellSignature(vector.key, vector.body, `v=${String(vector.v)},d=abc`, vector.v),
    ).toBe(false);
    expect(
      verifyRetellSignature(
        vector.key,
        vector.body,
        `d=${vector.d},v=${String(vector.v)}`,
        vector.v,
      ),
    ).toBe(false);
    const huge = `v=${'9'.repeat(20)},d=${vector.d}`;
    expect(verifyRetellSignature(vector.key, vector.body, huge, Number('9'.repeat(20)))).toBe(
      false,
    );
  });

  it('uses the real clock by default and agrees with the retell-sdk verifier', async () => {
    const now = Date.now();
    const d = createHmac('sha256', vector.key)
      .update(vector.body + String(now))
      .digest('hex');
    const fresh = `v=${String(now)},d=${d}`;
    expect(verifyRetellSignature(vector.key, vector.body, fresh)).toBe(true);
    await expect(retellSdkVerify(vector.body, vector.key, fresh)).resolves.toBe(true);
    expect(verifyRetellSignature(vector.key, vector.body, header)).toBe(false);
  });
});
