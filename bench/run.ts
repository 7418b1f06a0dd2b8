import { runApiBench } from './api';
import { runFlowsBench } from './flows';
import { runHttpBench } from './http';
import { runIngestBench } from './ingest';
import { runPolicyBench } from './policy';
import { runProxyBench } from './proxy';
import { runRenderBench } from './render';

/** `npm run bench -- <name>`: runs one benchmark; each prints its figures and its baseline. */
const benches: Record<string, () => Promise<void>> = {
  http: runHttpBench,
  policy: runPolicyBench,
  api: runApiBench,
  proxy: runProxyBench,
  ingest: runIngestBench,
  render: runRenderBench,
  flows: runFlowsBench,
};

const name = process.argv[2] ?? 'http';
const bench = benches[name];
if (!bench) {
  process.stderr.write(`unknown benchmark "${name}"; known: ${Object.keys(benches).join(', ')}\n`);
  process.exit(2);
}
bench().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
