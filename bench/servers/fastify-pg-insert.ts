import Fastify from 'fastify';
import pg from 'pg';

/**
 * The baseline of `bench -- ingest`: bare Fastify and a `pg` pool (DB_POOL_MAX, the platform's
 * default 10) storing each POSTed body, as the exact bytes received, with one single-row INSERT
 * (autocommit) into a table of its own (`bench.ingest_baseline`, created on start), then
 * answering 200 with an empty body — no signature check, no tenant context, no encryption, no
 * event or job: the least a server acknowledging a webhook only once it is stored must do.
 */
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DB_POOL_MAX ?? '10'),
});
pool.on('error', () => undefined);

const app = Fastify({ logger: false });
// The raw body, unparsed, like the platform's ingress route.
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
  done(null, body);
});
app.post('/webhooks/:provider/:endpointId', async (request, reply) => {
  await pool.query('INSERT INTO bench.ingest_baseline (body) VALUES ($1)', [
    typeof request.body === 'string' ? request.body : '',
  ]);
  return reply.code(200).send('');
});

const stop = () => void app.close().then(() => pool.end().then(() => process.exit(0)));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

void pool
  .query(
    'CREATE SCHEMA IF NOT EXISTS bench; ' +
      'CREATE TABLE IF NOT EXISTS bench.ingest_baseline (' +
      'id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ' +
      'received_at timestamptz NOT NULL DEFAULT now(), body text NOT NULL)',
  )
  .then(() => app.listen({ port: 0, host: '127.0.0.1' }))
  .then(() => {
    const address = app.server.address();
    process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
  });
