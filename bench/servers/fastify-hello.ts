import Fastify from 'fastify';

/** The baseline: a bare Fastify server answering what /healthz answers, nothing else. */
const app = Fastify({ logger: false });
app.get('/healthz', () => ({ status: 'ok' }));
void app.listen({ port: 0, host: '127.0.0.1' }).then(() => {
  const address = app.server.address();
  process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
});
