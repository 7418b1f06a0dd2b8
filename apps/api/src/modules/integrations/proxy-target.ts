/**
 * Resolves a proxied path against a connection's API root, refusing anything that could leave
 * it: absolute or protocol-relative URLs, backslashes, dot segments (plain or percent-encoded),
 * encoded slashes, control characters. The result always has the root's origin and sits under
 * the root's path (SSRF guard).
 */
export function proxyTarget(baseUrl: string, rawPath: string, rawQuery: string): URL | undefined {
  const base = new URL(baseUrl);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
  if (/[\\\u0000-\u001f\u007f]/.test(rawPath)) return undefined;
  if (/%(2f|5c|2e|00)/i.test(rawPath)) return undefined;
  if (rawPath.startsWith('/') || /^[a-z][a-z0-9+.-]*:/i.test(rawPath)) return undefined;
  const segments = rawPath.split('/');
  if (segments.some((s) => s === '.' || s === '..')) return undefined;
  const root = base.pathname.replace(/\/+$/, '');
  const target = new URL(`${root}/${rawPath}${rawQuery ? `?${rawQuery}` : ''}`, base.origin);
  if (target.origin !== base.origin) return undefined;
  if (target.pathname !== root && !target.pathname.startsWith(`${root}/`)) return undefined;
  return target;
}

/** Headers never forwarded either way (RFC 9110 §7.6.1 hop-by-hop, plus our own credentials). */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);
export const NEVER_FORWARDED = new Set([
  ...HOP_BY_HOP,
  'authorization',
  'cookie',
  'x-csrf-token',
  'x-auth-transport',
  'set-cookie',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-real-ip',
]);
