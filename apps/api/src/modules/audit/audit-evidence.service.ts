import type { JsonWebKey, KeyObject } from 'node:crypto';
import { uuidv7 } from 'uuidv7';
import type { SecretBox } from '../../platform/crypto/secret-box';
import { ProblemError } from '../../platform/errors/problem';
import { AUDIT_KEY_ALG, newAuditKeyPair, privateKeyOf, signCheckpoint } from './audit-checkpoint';
import type { AuditEventRow, AuditRepository, CheckpointRow } from './audit.repository';

/** Events read per query while exporting: memory stays flat however long the trail. */
export const EXPORT_BATCH = 500;

export interface ExportRange {
  from?: Date | undefined;
  to?: Date | undefined;
}

/** An event as the list view and the export show it. */
export function eventView(e: AuditEventRow) {
  return {
    seq: e.seq,
    id: e.id,
    occurredAt: e.occurredAt.toISOString(),
    actorType: e.actorType,
    actorId: e.actorId,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    outcome: e.outcome,
    correlationId: e.correlationId,
    ip: e.ip,
    userAgent: e.userAgent,
    changes: e.changes,
    hash: e.hash,
  };
}

export function checkpointView(c: CheckpointRow) {
  return {
    tenantId: c.tenantId,
    seq: c.seq,
    hash: c.hash,
    signedAt: c.signedAt.toISOString(),
    kid: c.kid,
    signature: c.signature,
  };
}

const sealContext = (kid: string): string => `signing-key:${kid}`;

/**
 * Evidence that outlives the database: Ed25519 audit keys (private half sealed under the master
 * key, shared by every replica), signed checkpoints of each tenant's chain head, and JSON Lines
 * exports that end with a checkpoint and its public key, so an archive verifies offline.
 */
export class AuditEvidenceService {
  private signer: Promise<{ kid: string; privateKey: KeyObject }> | undefined;

  constructor(
    private readonly repository: AuditRepository,
    private readonly box: SecretBox,
  ) {}

  /** Loads the signing key, creating the first one on an empty database. */
  async init(): Promise<void> {
    await this.signingKey();
  }

  /** The public keys of the unretired audit keys (a JWKS). */
  async jwks(): Promise<{ keys: JsonWebKey[] }> {
    return { keys: (await this.repository.auditKeys()).map((row) => row.publicJwk) };
  }

  /** Signs the tenant's chain head unless it is signed already; undefined without events. */
  async createCheckpoint(
    tenantId: string,
  ): Promise<{ checkpoint: CheckpointRow; created: boolean } | undefined> {
    const { kid, privateKey } = await this.signingKey();
    return this.repository.checkpointHead(tenantId, (head) => {
      const claims = { tenantId, seq: head.seq, hash: head.hash, signedAt: new Date(), kid };
      return { ...claims, signature: signCheckpoint(claims, privateKey) };
    });
  }

  /** The checkpoint of the tenant's current head, created unless it exists (on demand). */
  async checkpointNow(tenantId: string): Promise<{ checkpoint: CheckpointRow; created: boolean }> {
    const result = await this.createCheckpoint(tenantId);
    if (!result) throw new ProblemError('conflict', 'The audit trail has no events to sign yet.');
    return result;
  }

  listCheckpoints(
    tenantId: string,
    page: { beforeSeq?: number | undefined; limit: number },
  ): Promise<CheckpointRow[]> {
    return this.repository.listCheckpoints(tenantId, page);
  }

  /** Tenants whose chain head has no checkpoint yet, with that head's `seq`. */
  headsWithoutCheckpoint(): Promise<{ tenantId: string; seq: number }[]> {
    return this.repository.headsWithoutCheckpoint();
  }

  /**
   * The tenant's events as JSON Lines, in `seq` order, read in batches (keyset on `seq`, one
   * short RLS transaction each), then one checkpoint line: the oldest checkpoint at or after the
   * last exported event — the one at that event when it exists, so the archive links to it —
   * created first when there is none. It carries the signing key's public JWK.
   */
  async *exportLines(tenantId: string, range: ExportRange): AsyncGenerator<string> {
    const head = await this.repository.head(tenantId);
    const maxSeq = head?.seq ?? 0;
    let lastSeq = 0;
    let page: AuditEventRow[];
    do {
      page = await this.repository.exportPage(
        tenantId,
        { afterSeq: lastSeq, maxSeq, from: range.from, to: range.to },
        EXPORT_BATCH,
      );
      for (const event of page) {
        lastSeq = event.seq;
        yield `${JSON.stringify({ type: 'event', ...eventView(event), prevHash: event.prevHash })}\n`;
      }
    } while (page.length === EXPORT_BATCH);
    const checkpoint = await this.checkpointCovering(tenantId, lastSeq);
    if (!checkpoint) return;
    const key = await this.repository.auditKey(checkpoint.kid);
    yield `${JSON.stringify({
      type: 'checkpoint',
      ...checkpointView(checkpoint),
      publicJwk: key?.publicJwk ?? null,
    })}\n`;
  }

  private async checkpointCovering(
    tenantId: string,
    seq: number,
  ): Promise<CheckpointRow | undefined> {
    const [existing] = await this.repository.checkpointsBetween(
      tenantId,
      seq - 1,
      Number.MAX_SAFE_INTEGER,
      1,
    );
    return existing ?? (await this.createCheckpoint(tenantId))?.checkpoint;
  }

  private signingKey(): Promise<{ kid: string; privateKey: KeyObject }> {
    this.signer ??= this.repository
      .ensureAuditKey(() => {
        const kid = uuidv7();
        const { publicJwk, privateJwk } = newAuditKeyPair(kid);
        return {
          kid,
          alg: AUDIT_KEY_ALG,
          publicJwk,
          privateJwkEncrypted: this.box.seal(JSON.stringify(privateJwk), sealContext(kid)),
        };
      })
      .then((row) => ({
        kid: row.kid,
        privateKey: privateKeyOf(
          JSON.parse(this.box.open(row.privateJwkEncrypted, sealContext(row.kid))) as JsonWebKey,
        ),
      }));
    return this.signer;
  }
}
