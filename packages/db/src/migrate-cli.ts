import { PGlite } from '@electric-sql/pglite';
import { runMigrations } from './migrate';

/** `npm run db:migrate`: applies pending migrations to DATABASE_URL, or to the embedded store. */
async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (url) {
    await runMigrations({ url });
  } else {
    const dataDir = process.env.PGLITE_DATA_DIR ?? './.data/pglite';
    const client = await PGlite.create(dataDir);
    await runMigrations({ pglite: client });
    await client.close();
  }
  process.stdout.write('migrations applied\n');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `migration failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
