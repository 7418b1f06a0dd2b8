import type { DatabaseHandle } from '@maxai/db';
import { SECRET_BOX } from './modules/iam/iam.module';
import { createApp } from './platform/app/create-app';
import { configOrExit } from './platform/app/run';
import { TenantSecrets } from './platform/crypto/envelope';
import { rotateMasterKey } from './platform/crypto/rotation';
import type { SecretBox } from './platform/crypto/secret-box';
import { DATABASE } from './platform/database/database.module';

/**
 * `npm run keys:rotate`: with the new key in MASTER_KEY and the old one(s) in
 * MASTER_KEY_PREVIOUS, re-wraps every tenant data key and re-seals every signing key under the
 * new master key. Online: replicas configured with both keys keep working throughout.
 */
async function main(): Promise<void> {
  const config = configOrExit({ ...process.env, SEED_ON_START: 'false' });
  const app = await createApp('api', config);
  try {
    const report = await rotateMasterKey(
      app.get<DatabaseHandle>(DATABASE).db,
      app.get<SecretBox>(SECRET_BOX),
      app.get(TenantSecrets),
    );
    process.stdout.write(
      `re-wrapped ${String(report.dataKeys)} data key(s) and re-sealed ${String(report.signingKeys)} signing key(s) under master key ${app.get<SecretBox>(SECRET_BOX).keyId}\n`,
    );
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`key rotation failed: ${(error as Error).message}\n`);
  process.exit(1);
});
