// The fuzz from the command line (tools/fuzz/README.md):
//   node --conditions=@strm/source --import tsx tools/fuzz/main.ts [--long] [--seed N] [--requests N]
//        [--playlists N] [--manifests N] [--concurrency N]
// Prints the figures; exits 1 when the proxy crashed, hung or answered an error that is not its JSON.
import { parseArgs } from 'node:util';
import { formatFuzzReport, runFuzz } from './run';
import { failuresOf, KNOWN_PROBLEMS } from './expectations';

// `pnpm ... -- --long` passes the `--` on: it is not an option.
const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    long: { type: 'boolean', default: false },
    seed: { type: 'string' },
    requests: { type: 'string' },
    playlists: { type: 'string' },
    manifests: { type: 'string' },
    concurrency: { type: 'string' },
  },
});
const long = values.long === true;
const number = (text: string | undefined, fallback: number) => (text === undefined ? fallback : Number(text));
const report = await runFuzz({
  seed: number(values.seed, long ? Date.now() % 1_000_000 : 2),
  requests: number(values.requests, long ? 20_000 : 900),
  playlists: number(values.playlists, long ? 2000 : 120),
  manifests: number(values.manifests, long ? 500 : 40),
  concurrency: number(values.concurrency, 4),
  scale: long ? 'long' : 'short',
});
console.log(formatFuzzReport(report));
const failures = failuresOf(report, KNOWN_PROBLEMS);
if (failures.length > 0) {
  console.log(`\nFAILED: ${failures.join('; ')}`);
  process.exitCode = 1;
}
