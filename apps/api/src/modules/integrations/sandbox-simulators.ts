import type { Logger } from 'pino';
import {
  allVendorSimulators,
  createSimulatorServer,
  type SimulatorServer,
} from '@maxai/simulators';

/**
 * `npm start` in sandbox mode: the provider simulators run inside the standalone process, on
 * SIMULATORS_URL's port, so the demo works offline with every adapter pointed at them.
 */
export class SandboxSimulators {
  private server: SimulatorServer | undefined;

  constructor(
    private readonly options: { enabled: boolean; simulatorsUrl: string; publicUrl: string },
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    if (!this.options.enabled) return;
    const url = new URL(this.options.simulatorsUrl);
    if (!['127.0.0.1', 'localhost'].includes(url.hostname)) {
      this.logger.warn({ url: url.origin }, 'SIMULATORS_URL is not local: not starting simulators');
      return;
    }
    this.server = await createSimulatorServer({
      vendors: allVendorSimulators(),
      publicUrl: this.options.publicUrl,
    });
    const listening = await this.server.listen(Number(url.port));
    this.logger.info({ url: listening }, 'provider simulators started (PROVIDERS=sandbox)');
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }
}
