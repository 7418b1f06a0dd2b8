/**
 * Roles and the permissions (`resource:action`) they grant, at three levels. This table is the
 * single source of truth: the README publishes it and `GET /v1/roles` serves it.
 */
export const PERMISSIONS = [
  'tenants:read',
  'tenants:update',
  'tenants:create',
  'tenants:suspend',
  'settings:read',
  'settings:write',
  'clients:read',
  'clients:create',
  'clients:update',
  'clients:delete',
  'agents:read',
  'agents:create',
  'agents:update',
  'agents:delete',
  'members:read',
  'members:manage',
  'api_keys:read',
  'api_keys:manage',
  'audit:read',
  'billing:read',
  'billing:manage',
  'prompts:read',
  'prompts:write',
  'prompts:publish',
  'connections:read',
  'connections:manage',
  'connections:use',
  'webhooks:read',
  'webhooks:manage',
  'webhooks:replay',
  'flows:read',
  'flows:write',
  'flows:activate',
  'runs:read',
  'runs:operate',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const PLATFORM_ROLES = ['platform_admin', 'platform_support'] as const;
export const TENANT_ROLES = ['owner', 'admin', 'member', 'billing'] as const;
export const CLIENT_ROLES = ['client_admin', 'client_editor', 'client_viewer'] as const;
export type PlatformRole = (typeof PLATFORM_ROLES)[number];
export type TenantRole = (typeof TENANT_ROLES)[number];
export type ClientRole = (typeof CLIENT_ROLES)[number];
export type Role = PlatformRole | TenantRole | ClientRole;

const ALL_TENANT_SCOPED = PERMISSIONS.filter(
  (p) => !['tenants:create', 'tenants:suspend'].includes(p),
);
const READS = PERMISSIONS.filter((p) => p.endsWith(':read'));

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  platform_admin: PERMISSIONS,
  // Support staff see everything and change nothing (every such access is audited).
  platform_support: READS,
  owner: ALL_TENANT_SCOPED,
  admin: ALL_TENANT_SCOPED.filter((p) => p !== 'billing:manage' && p !== 'tenants:update'),
  member: [
    'tenants:read',
    'clients:read',
    'agents:read',
    'agents:create',
    'agents:update',
    'prompts:read',
    'prompts:write',
    'connections:read',
    'connections:use',
    'webhooks:read',
    'flows:read',
    'flows:write',
    'runs:read',
  ],
  billing: ['tenants:read', 'clients:read', 'billing:read', 'billing:manage'],
  client_admin: [
    'clients:read',
    'clients:update',
    'agents:read',
    'agents:create',
    'agents:update',
    'agents:delete',
    'members:read',
    'prompts:read',
    'prompts:write',
    'prompts:publish',
    'connections:read',
    'connections:manage',
    'connections:use',
    'webhooks:read',
    'webhooks:manage',
    'webhooks:replay',
    'flows:read',
    'flows:write',
    'flows:activate',
    'runs:read',
    'runs:operate',
  ],
  client_editor: [
    'clients:read',
    'agents:read',
    'agents:create',
    'agents:update',
    'prompts:read',
    'prompts:write',
    'connections:read',
    'connections:use',
    'webhooks:read',
    'flows:read',
    'flows:write',
    'runs:read',
  ],
  client_viewer: [
    'clients:read',
    'agents:read',
    'prompts:read',
    'connections:read',
    'webhooks:read',
    'flows:read',
    'runs:read',
  ],
};

/** An API key's fixed grant: one tenant (or one client of it) and an explicit permission set. */
export interface KeyGrant {
  tenantId: string;
  clientId?: string | undefined;
  permissions: ReadonlySet<Permission>;
}

/** Who is acting: a user's platform role and memberships, or an API key's grant. */
export interface Principal {
  kind: 'user' | 'api_key';
  id: string;
  apiKey?: KeyGrant | undefined;
  platformRole?: PlatformRole | undefined;
  /** tenantId → the tenant-level role and the client-level roles in that tenant. */
  memberships: ReadonlyMap<
    string,
    { role?: TenantRole | undefined; clients: ReadonlyMap<string, ClientRole> }
  >;
}

/** What is acted upon: always a tenant; a client when the resource belongs to one. */
export interface ResourceScope {
  tenantId: string;
  clientId?: string | undefined;
}

const GRANTS = new Map<Role, ReadonlySet<Permission>>(
  Object.entries(ROLE_PERMISSIONS).map(([role, permissions]) => [
    role as Role,
    new Set(permissions),
  ]),
);

const grants = (role: Role | undefined, permission: Permission): boolean =>
  role !== undefined && (GRANTS.get(role)?.has(permission) ?? false);

/**
 * May `principal` exercise `permission` on a resource in `scope`? A tenant role covers every
 * client of the tenant; a client role covers only that client's resources; a platform role
 * covers every tenant.
 */
export function isAllowed(
  principal: Principal,
  permission: Permission,
  scope: ResourceScope,
): boolean {
  if (principal.apiKey) {
    return keyCovers(principal.apiKey, scope) && principal.apiKey.permissions.has(permission);
  }
  if (grants(principal.platformRole, permission)) return true;
  const membership = principal.memberships.get(scope.tenantId);
  if (!membership) return false;
  if (grants(membership.role, permission)) return true;
  return scope.clientId !== undefined && grants(membership.clients.get(scope.clientId), permission);
}

/** Platform-wide actions (no tenant in scope): only platform roles hold them. */
export function isAllowedOnPlatform(principal: Principal, permission: Permission): boolean {
  return grants(principal.platformRole, permission);
}

/** A key scoped to a client covers that client's resources and the tenant-level lists it narrows. */
function keyCovers(key: KeyGrant, scope: ResourceScope): boolean {
  if (scope.tenantId !== key.tenantId) return false;
  return key.clientId === undefined || scope.clientId === key.clientId;
}

/** Can the principal see anything of this tenant (and client)? Decides 404 versus 403. */
export function canSee(
  principal: Principal,
  tenantId: string,
  clientId: string | undefined,
): boolean {
  const key = principal.apiKey;
  if (key)
    return (
      key.tenantId === tenantId &&
      (key.clientId === undefined || clientId === undefined || clientId === key.clientId)
    );
  if (principal.platformRole) return true;
  const membership = principal.memberships.get(tenantId);
  if (!membership) return false;
  if (membership.role) return true;
  return clientId === undefined ? membership.clients.size > 0 : membership.clients.has(clientId);
}

/** The clients of a tenant on which `principal` holds `permission` only through client roles. */
export function clientsGranted(
  principal: Principal,
  permission: Permission,
  tenantId: string,
): string[] {
  const key = principal.apiKey;
  if (key) {
    return key.clientId && key.tenantId === tenantId && key.permissions.has(permission)
      ? [key.clientId]
      : [];
  }
  const membership = principal.memberships.get(tenantId);
  if (!membership) return [];
  return [...membership.clients]
    .filter(([, role]) => grants(role, permission))
    .map(([clientId]) => clientId);
}

/** Every permission `principal` holds in a tenant (tenant-wide or on at least one client). */
export function effectivePermissions(principal: Principal, tenantId: string): Permission[] {
  return PERMISSIONS.filter(
    (p) =>
      isAllowed(principal, p, { tenantId }) || clientsGranted(principal, p, tenantId).length > 0,
  );
}
