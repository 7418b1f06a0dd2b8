import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_ROLES,
  clientsGranted,
  effectivePermissions,
  isAllowed,
  PERMISSIONS,
  PLATFORM_ROLES,
  ROLE_PERMISSIONS,
  TENANT_ROLES,
  type ClientRole,
  type Permission,
  type Principal,
  type TenantRole,
} from './permissions';

const TENANTS = ['t1', 't2', 't3'];
const CLIENTS = ['c1', 'c2', 'c3'];

/** The reference model: the obvious, slow reading of the rules, as a list of grants. */
function referenceAllowed(
  grants: {
    platform?: string;
    tenantRoles: [string, string][];
    clientRoles: [string, string, string][];
  },
  permission: Permission,
  tenantId: string,
  clientId: string | undefined,
): boolean {
  const has = (role: string) =>
    (ROLE_PERMISSIONS as Record<string, readonly string[]>)[role]!.includes(permission);
  if (grants.platform && has(grants.platform)) return true;
  if (grants.tenantRoles.some(([t, r]) => t === tenantId && has(r))) return true;
  return grants.clientRoles.some(([t, c, r]) => t === tenantId && c === clientId && has(r));
}

const arbitraryGrants = fc.record({
  platform: fc.option(fc.constantFrom(...PLATFORM_ROLES), { nil: undefined }),
  tenantRoles: fc.uniqueArray(
    fc.tuple(fc.constantFrom(...TENANTS), fc.constantFrom(...TENANT_ROLES)),
    {
      selector: ([t]) => t,
      maxLength: 3,
    },
  ),
  clientRoles: fc.uniqueArray(
    fc.tuple(
      fc.constantFrom(...TENANTS),
      fc.constantFrom(...CLIENTS),
      fc.constantFrom(...CLIENT_ROLES),
    ),
    { selector: ([t, c]) => `${t}/${c}`, maxLength: 6 },
  ),
});

type Grants = typeof arbitraryGrants extends fc.Arbitrary<infer T> ? T : never;

function toPrincipal(grants: Grants): Principal {
  const memberships = new Map<string, { role?: TenantRole; clients: Map<string, ClientRole> }>();
  for (const [tenantId, role] of grants.tenantRoles)
    memberships.set(tenantId, { role, clients: new Map() });
  for (const [tenantId, clientId, role] of grants.clientRoles) {
    const m = memberships.get(tenantId) ?? { clients: new Map<string, ClientRole>() };
    m.clients.set(clientId, role);
    memberships.set(tenantId, m);
  }
  return { kind: 'user', id: 'u', platformRole: grants.platform, memberships };
}

describe('permission evaluator', () => {
  it('agrees with the reference model on every input', () => {
    fc.assert(
      fc.property(
        arbitraryGrants,
        fc.constantFrom(...PERMISSIONS),
        fc.constantFrom(...TENANTS),
        fc.option(fc.constantFrom(...CLIENTS), { nil: undefined }),
        (grants, permission, tenantId, clientId) => {
          expect(isAllowed(toPrincipal(grants), permission, { tenantId, clientId })).toBe(
            referenceAllowed(grants, permission, tenantId, clientId),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never lets a client role reach a sibling client or the tenant as a whole', () => {
    const principal: Principal = {
      kind: 'user',
      id: 'u',
      memberships: new Map([
        ['t1', { clients: new Map<string, ClientRole>([['c1', 'client_admin']]) }],
      ]),
    };
    expect(isAllowed(principal, 'agents:update', { tenantId: 't1', clientId: 'c1' })).toBe(true);
    expect(isAllowed(principal, 'agents:update', { tenantId: 't1', clientId: 'c2' })).toBe(false);
    expect(isAllowed(principal, 'agents:update', { tenantId: 't1' })).toBe(false);
    expect(isAllowed(principal, 'agents:update', { tenantId: 't2', clientId: 'c1' })).toBe(false);
    expect(clientsGranted(principal, 'agents:read', 't1')).toEqual(['c1']);
    expect(clientsGranted(principal, 'agents:read', 't2')).toEqual([]);
    expect(effectivePermissions(principal, 't1')).toContain('agents:delete');
    expect(effectivePermissions(principal, 't1')).not.toContain('clients:create');
  });

  it('keeps platform support read-only', () => {
    expect(ROLE_PERMISSIONS.platform_support.every((p) => p.endsWith(':read'))).toBe(true);
    const support: Principal = {
      kind: 'user',
      id: 's',
      platformRole: 'platform_support',
      memberships: new Map(),
    };
    expect(isAllowed(support, 'agents:read', { tenantId: 'any' })).toBe(true);
    expect(isAllowed(support, 'agents:update', { tenantId: 'any' })).toBe(false);
  });

  it('grants only known permissions and keeps tenant creation a platform matter', () => {
    for (const [role, permissions] of Object.entries(ROLE_PERMISSIONS)) {
      for (const p of permissions) expect(PERMISSIONS, role).toContain(p);
      if (role !== 'platform_admin') expect(permissions).not.toContain('tenants:create');
    }
  });
});
