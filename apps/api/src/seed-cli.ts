import { createApp } from './platform/app/create-app';
import { configOrExit } from './platform/app/run';

/** `npm run seed`: seeds an empty database (admin + demo tenant), then exits. */
async function main(): Promise<void> {
  const config = configOrExit({ ...process.env, SEED_ON_START: 'true' });
  const app = await createApp('api', config);
  await app.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`seed failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
