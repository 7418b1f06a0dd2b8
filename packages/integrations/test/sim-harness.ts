import {
  createSimulatorServer,
  type SimulatorServer,
  type VendorSimulator,
} from '@maxai/simulators';

/** A simulator server on a free port, with helpers for its control API. */
export interface SimHarness {
  server: SimulatorServer;
  url: string;
  /** POST to `/_control/<path>` with a JSON body; answers the parsed JSON. */
  control<T = Record<string, unknown>>(path: string, body?: unknown): Promise<T>;
  fault(fault: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

export async function startSimulator(
  vendor: VendorSimulator,
  publicUrl?: string,
): Promise<SimHarness> {
  const server = await createSimulatorServer({
    vendors: [vendor],
    ...(publicUrl ? { publicUrl } : {}),
  });
  const url = await server.listen(0);
  const control = async <T>(path: string, body: unknown = {}): Promise<T> => {
    const res = await fetch(`${url}/_control/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await res.json()) as T;
  };
  return {
    server,
    url,
    control,
    fault: async (fault) => {
      await control('faults', fault);
    },
    close: () => server.close(),
  };
}

/** Every string field of an error, its message, cause chain and JSON, for leak checks. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth += 1) {
    parts.push(String(current), current.message, current.stack ?? '', JSON.stringify(current));
    parts.push(JSON.stringify(Object.entries(current)));
    current = current.cause;
  }
  return parts.join('\n');
}
