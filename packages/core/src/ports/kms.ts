/**
 * The key-management port of envelope encryption: it wraps and unwraps per-tenant data keys with
 * a master key it never reveals. The env-key adapter keeps the master key in the process; a cloud
 * KMS adapter would send the data key to the KMS instead.
 */
export interface KmsPort {
  /** The id of the master key new wraps use. */
  readonly currentKeyId: string;
  wrap(dataKey: Buffer, context: string): Promise<{ keyId: string; wrapped: string }>;
  unwrap(wrapped: string, keyId: string, context: string): Promise<Buffer>;
}
