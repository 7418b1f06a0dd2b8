import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/** The platform's helmet policy. The API answers JSON; only /docs serves a page (own assets). */
export const HELMET_POLICY: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
    },
  },
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
};

/**
 * The headers helmet sets for a policy, computed once. Our policy has no per-request part (no
 * CSP nonces), so applying this fixed set is exactly what helmet would do on every response —
 * without the cost of running its middleware chain per request, which measured at more than
 * half of a trivial request's time through @fastify/helmet.
 */
export function computeSecurityHeaders(
  policy: HelmetOptions = HELMET_POLICY,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string) {
      headers[name.toLowerCase()] = value;
    },
    removeHeader(name: string) {
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a header map keyed by name
      delete headers[name.toLowerCase()];
    },
  };
  // helmet validates the policy when it is built (throwing on a bad one) and then sets headers
  // synchronously; its `next` callback carries no error for a valid policy.
  helmet(policy)({} as IncomingMessage, response as unknown as ServerResponse, () => undefined);
  return headers;
}
