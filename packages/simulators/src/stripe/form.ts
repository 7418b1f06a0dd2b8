/** A form value after bracket decoding: strings, nested objects and arrays. */
export type StripeParam = string | StripeParams | StripeParam[];
export interface StripeParams {
  [key: string]: StripeParam;
}

/**
 * Stripe's form encoding with bracket notation (docs.stripe.com/api — "Metadata", and
 * stripe/stripe-node `src/utils.ts` stringifyRequestData): `metadata[plan]=pro`,
 * `line_items[0][price_data][currency]=usd`, `expand[]=latest_charge`. Flat parsed pairs in,
 * nested objects out; numeric (or empty) indices become arrays.
 */
export function decodeStripeParams(flat: Record<string, unknown>): StripeParams {
  const root: StripeParams = {};
  for (const [rawKey, rawValue] of Object.entries(flat)) {
    const values = Array.isArray(rawValue) ? rawValue : [rawValue];
    for (const value of values) {
      if (typeof value !== 'string') continue;
      const match = /^([^[]+)((?:\[[^\]]*\])*)$/.exec(rawKey);
      const head = match?.[1] ?? rawKey;
      const path = [...(match?.[2] ?? '').matchAll(/\[([^\]]*)\]/g)].map((m) => String(m[1]));
      assign(root, [head, ...path], value);
    }
  }
  return arrayify(root) as StripeParams;
}

function assign(node: StripeParams, path: string[], value: string): void {
  const [key, ...rest] = path as [string, ...string[]];
  const slot = key === '' ? String(Object.keys(node).length) : key;
  if (rest.length === 0) {
    node[slot] = value;
    return;
  }
  const existing = node[slot];
  const child: StripeParams =
    existing !== undefined && typeof existing === 'object' && !Array.isArray(existing)
      ? existing
      : {};
  node[slot] = child;
  assign(child, rest, value);
}

/** Objects whose keys are all 0..n-1 become arrays (Stripe's `[0]`, `[1]` indices). */
function arrayify(value: StripeParam): StripeParam {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const entries = Object.entries(value).map(([k, v]) => [k, arrayify(v)] as const);
  const keys = entries.map(([k]) => k);
  if (keys.length > 0 && keys.every((k, i) => k === String(i))) return entries.map(([, v]) => v);
  return Object.fromEntries(entries);
}

export function str(params: StripeParams, key: string): string | undefined {
  const value = params[key];
  return typeof value === 'string' ? value : undefined;
}

export function obj(params: StripeParams, key: string): StripeParams | undefined {
  const value = params[key];
  return value !== undefined && typeof value === 'object' && !Array.isArray(value)
    ? value
    : undefined;
}

export function list(params: StripeParams, key: string): StripeParam[] {
  const value = params[key];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** `metadata[...]` as Stripe stores it: string values only. */
export function metadataOf(params: StripeParams): Record<string, string> {
  const metadata = obj(params, 'metadata') ?? {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (typeof v === 'string') out[k] = v;
  return out;
}
