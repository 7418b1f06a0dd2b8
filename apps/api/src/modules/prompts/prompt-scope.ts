import type { Tx } from '@maxai/db';
import { ProblemError } from '../../platform/errors/problem';
import type { PromptsRepository, TemplateRow } from './prompts.repository';

/** Where a template lives: the tenant's shared library, or one client's overrides. */
export interface PromptScope {
  tenantId: string;
  clientId?: string | undefined;
}

/** The scope's client id as stored (null for the tenant's library). */
export const ownerOf = (scope: PromptScope): string | null => scope.clientId ?? null;

/** The tenant setting the label rules consult (the tenancy module's settings service). */
export interface PromptApprovalPolicy {
  promptApprovalRequired(tx: Tx, tenantId: string): Promise<boolean>;
}

export function promptNotFound(detail = 'No such prompt.'): ProblemError {
  return new ProblemError('not-found', detail);
}

/** The scope's client must exist in the tenant (RLS hides other tenants' clients). */
export async function assertScope(
  tx: Tx,
  repository: PromptsRepository,
  scope: PromptScope,
): Promise<void> {
  if (scope.clientId !== undefined) {
    const exists = await repository.clientExists(tx, scope.tenantId, scope.clientId);
    if (!exists) throw new ProblemError('not-found', 'No such client.');
  }
}

/** The template of `key` in the scope, or 404. */
export async function requireTemplate(
  tx: Tx,
  repository: PromptsRepository,
  scope: PromptScope,
  key: string,
  lock = false,
): Promise<TemplateRow> {
  const template = await repository.findTemplate(tx, scope.tenantId, ownerOf(scope), key, lock);
  if (!template) throw promptNotFound(`No prompt ${key} here.`);
  return template;
}
