import { z } from 'zod';
import { labelSchema, promptKeySchema } from './prompt-schemas';

/** The two places prompts live: a tenant's library and a client's overrides. */
export type ScopeKind = 'tenant' | 'client';

const clientShape = z.object({ tenantId: z.uuid(), clientId: z.uuid() });
/** Typed for both scopes: `clientId` is absent on tenant routes (and not in their schema). */
type ScopeShape = z.ZodObject<{ tenantId: z.ZodUUID; clientId: z.ZodOptional<z.ZodUUID> }>;

/** The path parameters of a scope: `{tenantId}`, plus `{clientId}` on client routes. */
export function scopeSchema(kind: ScopeKind): ScopeShape {
  return (kind === 'tenant'
    ? z.object({ tenantId: z.uuid() })
    : clientShape) as unknown as ScopeShape;
}

/**
 * `{promptKey}` is one path segment: a key's `/` travels URL-encoded as `%2F`
 * (`/prompts/front-desk%2Fgreeting/render`).
 */
export const promptKeyParam = promptKeySchema.describe(
  'The prompt key, URL-encoded: front-desk%2Fgreeting',
);
export const labelParam = labelSchema.describe('A label name, e.g. production');
export const versionParam = z.coerce.number().int().min(1).describe('A version number');

/** Path segments of the scope's prompt routes. */
export const SCOPE_PATHS: Record<ScopeKind, string> = {
  tenant: 'v1/tenants/:tenantId',
  client: 'v1/tenants/:tenantId/clients/:clientId',
};
