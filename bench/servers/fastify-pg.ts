import Fastify from 'fastify';
import pg from 'pg';

/**
 * The baseline of `bench -- api`: bare Fastify and a `pg` pool (DB_POOL_MAX, the platform's
 * default 10) reading one agent row by id as the table owner — no auth, no tenant context, no
 * validation, no hooks: the least a server answering that route must do.
 */
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DB_POOL_MAX ?? '10'),
});
pool.on('error', () => undefined);

const app = Fastify({ logger: false });
app.get<{ Params: { id: string } }>('/agents/:id', async (request, reply) => {
  const { rows } = await pool.query('SELECT * FROM agents WHERE id = $1', [request.params.id]);
  if (rows.length === 0) return reply.code(404).send({ status: 404 });
  return rows[0] as unknown;
});

const stop = () => void app.close().then(() => pool.end().then(() => process.exit(0)));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

void app.listen({ port: 0, host: '127.0.0.1' }).then(() => {
  const address = app.server.address();
  process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
});
