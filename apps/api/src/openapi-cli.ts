import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createApp } from './platform/app/create-app';
import { loadConfig } from './platform/config/config.schema';
import { buildOpenApiDocument, serializeOpenApi } from './platform/openapi/openapi';

/** `npm run openapi:write`: regenerates the committed openapi.json from the code. */
async function main(): Promise<void> {
  const app = await createApp('api', loadConfig({ LOG_LEVEL: 'silent', PGLITE_DATA_DIR: 'memory://' }));
  const target = path.resolve(__dirname, '../../../openapi.json');
  writeFileSync(target, serializeOpenApi(buildOpenApiDocument(app)));
  await app.close();
  process.stdout.write(`wrote ${target}\n`);
}

void main();
