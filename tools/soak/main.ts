// The soak from the command line (tools/soak/README.md):
//   node --conditions=@strm/source --import tsx tools/soak/main.ts [--long] [--seconds N] [--concurrency N] [--seed N]
// Prints the figures (and with --samples every sample); exits 1 on a wrong byte, a failed request
// or a crash.
import { parseArgs } from 'node:util';
import { formatSoakReport, runSoak } from './run';

// `pnpm ... -- --long` passes the `--` on: it is not an option.
const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    long: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    concurrency: { type: 'string' },
    seed: { type: 'string' },
    samples: { type: 'boolean', default: false },
  },
});
const long = values.long === true;
const report = await runSoak({
  seed: Number(values.seed ?? 1),
  seconds: Number(values.seconds ?? (long ? 600 : 15)),
  concurrency: Number(values.concurrency ?? (long ? 16 : 6)),
  sampleEveryMs: long ? 5000 : 500,
});
console.log(formatSoakReport(report));
if (values.samples) for (const s of report.samples) console.log(`  t=${s.t.toFixed(0)}s rss=${s.rssMB.toFixed(1)}MB heap=${s.heapMB.toFixed(1)}MB fds=${s.fds}`);
if (!report.alive || report.failures > 0) process.exitCode = 1;
