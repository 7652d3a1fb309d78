// Reproduces a V8 abort that src/heap-mode.ts can meet the first time it turns marking off: on
// Node 20, turning incremental marking off (which turns concurrent marking off with it) while
// concurrent marking is at work can kill the process ("unreachable code" in
// `ConcurrentMarking::RunMajor`). Each run is a child Node that allocates heavily and turns marking
// off once, at a random moment between 0.3 and 1.8 s; with `guarded` it first runs a full
// collection (which the proxy does not: it cost 1.16x the CPU per segment at 512 clients); with
// `early` it turns concurrent marking off as its first statement, as `node --no-concurrent-marking`
// would (which the proxy does not either: in some starts its idle process kept 35 MiB more). Rare
// (2 runs in 300 died unguarded, none of 260 guarded and none of 400 early, tools/bench/README.md,
// "Marking on the main thread, and a crash" and the section after it), so run it, do not test
// with it:
//   node --import tsx apps/proxy/scripts/marking-off-stress.ts [guarded|unguarded|early] [runs]
// Prints how many runs died (and how many hung past 30 s or did not start), and the first lines of
// the first death's output; exits 1 when a run died.
import { spawnSync } from 'node:child_process';

const CHILD = `
const { setFlagsFromString } = require('node:v8');
const { runInNewContext } = require('node:vm');
const guarded = process.argv[1] === 'guarded';
if (process.argv[1] === 'early') setFlagsFromString('--no-concurrent-marking');
let live = [];
const started = Date.now();
setTimeout(() => {
  if (guarded) {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc');
    setFlagsFromString('--no-expose-gc');
    gc();
  }
  setFlagsFromString('--no-incremental-marking');
}, 300 + Math.random() * 1500);
(function work() {
  for (let i = 0; i < 5000; i++) live.push({ i, s: 'x' + i, a: [i, i], b: Buffer.allocUnsafe(64) });
  if (live.length > 600000) live = live.slice(300000);
  if (Date.now() - started < 2200) setImmediate(work);
})();
`;

const mode = process.argv[2] ?? 'unguarded';
const runs = Number(process.argv[3] ?? 100);
if (!['guarded', 'unguarded', 'early'].includes(mode) || !Number.isInteger(runs) || runs < 1) {
  console.error('usage: node --import tsx apps/proxy/scripts/marking-off-stress.ts [guarded|unguarded|early] [runs]');
  process.exit(2);
}
/** A run takes about 2.2 s; one still running after this has hung. */
const RUN_TIMEOUT_MS = 30_000;
let died = 0;
let hung = 0;
let unstarted = 0;
let firstDeath = '';
for (let run = 0; run < runs; run++) {
  const child = spawnSync(process.execPath, ['-e', CHILD, mode], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
  if (child.error !== undefined) {
    if ((child.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') hung += 1;
    else unstarted += 1;
    continue;
  }
  if (child.status === 0) continue;
  died += 1;
  firstDeath ||= `status ${child.status ?? child.signal}\n${`${child.stdout}${child.stderr}`.trim().split('\n').slice(0, 14).join('\n')}`;
}
console.log(`${mode}: ${died} of ${runs} runs died${hung > 0 ? `, ${hung} hung` : ''}${unstarted > 0 ? `, ${unstarted} did not start` : ''}`);
if (firstDeath !== '') console.log(firstDeath);
process.exitCode = died > 0 ? 1 : 0;
