import { describe, expect, it } from 'vitest';
import { computeSecurityHeaders } from './security-headers';

describe('computeSecurityHeaders', () => {
  it("yields helmet's headers for the platform policy", () => {
    const headers = computeSecurityHeaders();
    expect(headers['content-security-policy']).toContain("default-src 'self'");
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(headers['x-powered-by']).toBeUndefined();
  });

  it('follows the policy it is given', () => {
    const headers = computeSecurityHeaders({
      contentSecurityPolicy: false,
      xFrameOptions: { action: 'deny' },
    });
    expect(headers['content-security-policy']).toBeUndefined();
    expect(headers['x-frame-options']).toBe('DENY');
  });
});
