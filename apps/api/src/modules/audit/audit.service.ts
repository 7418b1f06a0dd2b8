import type { JsonWebKey } from 'node:crypto';
import type { Tx } from '@maxai/db';
import { ACTOR_TYPES, AUDIT_OUTCOMES } from '@maxai/db';
import { requestContext } from '../../platform/http/request-context';
import { maskCardNumbersDeep } from '../../platform/logging/redaction';
import { findChainBreak, GENESIS_HASH, type ChainBreak } from './audit-chain';
import { verifyCheckpoint } from './audit-checkpoint';
import type { AuditEventRow, AuditRepository, CheckpointRow } from './audit.repository';

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

/** A signed checkpoint that does not hold: forged or unknown key, or a rewritten chain. */
export interface CheckpointBreak {
  seq: number;
  reason: 'checkpoint_signature_invalid' | 'checkpoint_hash_mismatch' | 'checkpoint_beyond_chain';
}

export type VerifyResult =
  | {
      valid: true;
      checked: number;
      checkpoints: number;
      head: { seq: number; hash: string };
    }
  | {
      valid: false;
      checked: number;
      firstBreak: ChainBreak | CheckpointBreak | { seq: number; reason: 'missing_tail' };
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

  /**
   * Walks the tenant's whole chain and its signed checkpoints, and reports the first break by
   * `seq`, if any: a broken link, a checkpoint whose signature fails or whose hash is not the
   * chain's at its `seq` (history rewritten and rehashed), or a checkpoint past the chain's end.
   */
  async verify(tenantId: string): Promise<VerifyResult> {
    let walked = { seq: 0, hash: GENESIS_HASH };
    let checked = 0;
    let checkpoints = 0;
    const keys = new Map<string, JsonWebKey | undefined>();
    for (;;) {
      const page = await this.repository.page(tenantId, walked.seq, VERIFY_BATCH);
      const result = findChainBreak(page, walked);
      // Checkpoints over the entries this page verified (at most one per seq).
      const hashes = new Map(page.map((e) => [e.seq, e.hash]));
      const signed = await this.repository.checkpointsBetween(
        tenantId,
        walked.seq,
        result.head.seq,
        VERIFY_BATCH,
      );
      for (const checkpoint of signed) {
        const reason = await this.checkpointProblem(checkpoint, hashes.get(checkpoint.seq), keys);
        if (reason) {
          return {
            valid: false,
            checked: checked + (checkpoint.seq - walked.seq),
            firstBreak: { seq: checkpoint.seq, reason },
          };
        }
      }
      checkpoints += signed.length;
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
    const [beyond] = await this.repository.checkpointsBetween(
      tenantId,
      walked.seq,
      Number.MAX_SAFE_INTEGER,
      1,
    );
    if (beyond) {
      return {
        valid: false,
        checked,
        firstBreak: { seq: beyond.seq, reason: 'checkpoint_beyond_chain' },
      };
    }
    return { valid: true, checked, checkpoints, head: walked };
  }

  private async checkpointProblem(
    checkpoint: CheckpointRow,
    chainHash: string | undefined,
    keys: Map<string, JsonWebKey | undefined>,
  ): Promise<CheckpointBreak['reason'] | undefined> {
    if (!keys.has(checkpoint.kid)) {
      keys.set(checkpoint.kid, (await this.repository.auditKey(checkpoint.kid))?.publicJwk);
    }
    const publicJwk = keys.get(checkpoint.kid);
    if (!publicJwk || !verifyCheckpoint(checkpoint, checkpoint.signature, publicJwk)) {
      return 'checkpoint_signature_invalid';
    }
    return checkpoint.hash === chainHash ? undefined : 'checkpoint_hash_mismatch';
  }
}
