import { createSimulatorServer } from './server';
import { allVendorSimulators } from './vendors';

/** `npm run simulators`: every provider simulator on SIMULATORS_PORT (default 4010). */
async function main(): Promise<void> {
  const server = await createSimulatorServer({
    vendors: allVendorSimulators(),
    publicUrl: process.env.PLATFORM_URL ?? 'http://127.0.0.1:3000',
    logger: true,
  });
  const url = await server.listen(Number(process.env.SIMULATORS_PORT ?? 4010));
  process.stdout.write(`provider simulators listening at ${url}\n`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
