import { allVendorSimulators, createSimulatorServer } from '@maxai/simulators';

/**
 * The provider simulators for `bench -- proxy`, in a process of their own: what `npm run
 * simulators` (packages/simulators/src/cli.ts) starts, but without a log line per request (which
 * would cost both sides of the comparison alike) and on SIMULATORS_PORT (0: any free port).
 */
async function main(): Promise<void> {
  const server = await createSimulatorServer({
    vendors: allVendorSimulators(),
    publicUrl: process.env.PLATFORM_URL ?? 'http://127.0.0.1:3000',
    logger: false,
  });
  const url = await server.listen(Number(process.env.SIMULATORS_PORT ?? '0'));
  process.stdout.write(`READY ${new URL(url).port}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
