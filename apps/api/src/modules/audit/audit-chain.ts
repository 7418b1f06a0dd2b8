import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** The `prev_hash` of a tenant's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields of an entry that its hash covers (everything but the hashes themselves). */
export interface ChainedFields {
  tenantId: string;
  seq: number;
  id: string;
  occurredAt: Date;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  correlationId: string | null;
  ip: string | null;
  userAgent: string | null;
  changes: Record<string, unknown> | null;
}

/**
 * SHA-256 (hex) of the previous entry's hash, a newline, and the entry's RFC 8785 canonical
 * JSON: key order and number formatting cannot change the result, and the same bytes can be
 * recomputed by any JCS implementation when an archive is checked outside this platform.
 */
export function chainHash(prevHash: string, entry: ChainedFields): string {
  const canonical = canonicalize({ ...entry, occurredAt: entry.occurredAt.toISOString() });
  return createHash('sha256')
    .update(`${prevHash}\n${canonical ?? ''}`)
    .digest('hex');
}

export type ChainBreak =
  | { seq: number; reason: 'hash_mismatch' }
  | { seq: number; reason: 'prev_hash_mismatch' }
  | { seq: number; reason: 'sequence_gap'; expected: number };

/** Walks entries in `seq` order from `from` (the previous head) and reports the first break. */
export function findChainBreak(
  entries: readonly (ChainedFields & { prevHash: string; hash: string })[],
  from: { seq: number; hash: string },
): { break?: ChainBreak; head: { seq: number; hash: string } } {
  let head = from;
  for (const entry of entries) {
    if (entry.seq !== head.seq + 1) {
      return { break: { seq: entry.seq, reason: 'sequence_gap', expected: head.seq + 1 }, head };
    }
    if (entry.prevHash !== head.hash)
      return { break: { seq: entry.seq, reason: 'prev_hash_mismatch' }, head };
    const { prevHash, hash, ...fields } = entry;
    if (chainHash(prevHash, fields) !== hash)
      return { break: { seq: entry.seq, reason: 'hash_mismatch' }, head };
    head = { seq: entry.seq, hash };
  }
  return { head };
}
