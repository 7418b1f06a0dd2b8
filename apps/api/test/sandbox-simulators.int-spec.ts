import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { SandboxSimulators } from '../src/modules/integrations/sandbox-simulators';

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });

function logger() {
  const lines: string[] = [];
  const log = (_obj: unknown, msg: string) => lines.push(msg);
  return { lines, logger: { info: log, warn: log } as unknown as Logger };
}

describe('the simulators inside the standalone process', () => {
  it('serve every vendor on SIMULATORS_URL while enabled', async () => {
    const port = await freePort();
    const { lines, logger: log } = logger();
    const sims = new SandboxSimulators(
      { enabled: true, simulatorsUrl: `http://127.0.0.1:${port}`, publicUrl: 'http://x' },
      log,
    );
    await sims.start();
    const res = await fetch(`http://127.0.0.1:${port}/_control/faults`);
    expect(res.status).toBe(200);
    expect(lines).toContain('provider simulators started (PROVIDERS=sandbox)');
    await sims.stop();
    await expect(fetch(`http://127.0.0.1:${port}/_control/faults`)).rejects.toThrow();
  });

  it('start nowhere when disabled or when the URL is not local', async () => {
    const { lines, logger: log } = logger();
    await new SandboxSimulators(
      { enabled: false, simulatorsUrl: 'http://127.0.0.1:1', publicUrl: 'http://x' },
      log,
    ).start();
    const remote = new SandboxSimulators(
      { enabled: true, simulatorsUrl: 'https://sims.example.com', publicUrl: 'http://x' },
      log,
    );
    await remote.start();
    await remote.stop();
    expect(lines).toEqual(['SIMULATORS_URL is not local: not starting simulators']);
  });
});
