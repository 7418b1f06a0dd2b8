import type { Tx } from '@maxai/db';
import { ACTOR_TYPES, AUDIT_OUTCOMES } from '@maxai/db';
import { requestContext } from '../../platform/http/request-context';
import { maskCardNumbersDeep } from '../../platform/logging/redaction';
import { findChainBreak, GENESIS_HASH, type ChainBreak } from './audit-chain';
import type { AuditEventRow, AuditRepository } from './audit.repository';

export interface AuditRecord {
  tenantId: string;
  actor: { type: (typeof ACTOR_TYPES)[number]; id?: string };
  /** `<resource>.<verb>`, e.g. `agent.created`, `auth.sign_in`. */
  action: string;
  target?: { type: string; id: string };
  outcome?: (typeof AUDIT_OUTCOMES)[number];
  correlationId?: string;
  ip?: string;
  userAgent?: string;
  /** What changed; secrets are replaced and card-like numbers masked before storing. */
  changes?: Record<string, unknown>;
}

export type VerifyResult =
  | { valid: true; checked: number; head: { seq: number; hash: string } }
  | {
      valid: false;
      checked: number;
      firstBreak: ChainBreak | { seq: number; reason: 'missing_tail' };
    };

const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|authorization|cookie|card|cvc|otp/i;
const VERIFY_BATCH = 1000;

/** Removes secret-looking fields at any depth; keeps the keys so the change remains legible. */
export function redactChanges(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactChanges(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      SECRET_KEY.test(k) ? '[redacted]' : redactChanges(v, depth + 1),
    ]),
  );
}

export class AuditService {
  constructor(private readonly repository: AuditRepository) {}

  /** Appends to the tenant's chain inside the caller's transaction: it commits with the change. */
  record(tx: Tx, record: AuditRecord): Promise<AuditEventRow> {
    return this.repository.append(tx, {
      tenantId: record.tenantId,
      occurredAt: new Date(),
      actorType: record.actor.type,
      actorId: record.actor.id ?? null,
      action: record.action,
      targetType: record.target?.type ?? null,
      targetId: record.target?.id ?? null,
      outcome: record.outcome ?? 'success',
      correlationId: record.correlationId ?? requestContext.current()?.correlationId ?? null,
      ip: record.ip ?? null,
      userAgent: record.userAgent ?? null,
      changes: record.changes
        ? (maskCardNumbersDeep(redactChanges(record.changes)) as Record<string, unknown>)
        : null,
    });
  }

  list(tenantId: string, filter: Parameters<AuditRepository['list']>[1]): Promise<AuditEventRow[]> {
    return this.repository.list(tenantId, filter);
  }

  /** Walks the tenant's whole chain and reports the first broken link, if any. */
  async verify(tenantId: string): Promise<VerifyResult> {
    let walked = { seq: 0, hash: GENESIS_HASH };
    let checked = 0;
    for (;;) {
      const page = await this.repository.page(tenantId, walked.seq, VERIFY_BATCH);
      const result = findChainBreak(page, walked);
      if (result.break)
        return {
          valid: false,
          checked: checked + (result.head.seq - walked.seq),
          firstBreak: result.break,
        };
      checked += page.length;
      walked = result.head;
      if (page.length < VERIFY_BATCH) break;
    }
    const stored = await this.repository.head(tenantId);
    if (stored && stored.seq > walked.seq) {
      return { valid: false, checked, firstBreak: { seq: walked.seq + 1, reason: 'missing_tail' } };
    }
    return { valid: true, checked, head: walked };
  }
}
