// A child Node for heap-mode.test.ts: calls `disableIncrementalMarking` (with the arguments given
// as JSON in argv[2], or the default `process.execArgv` for "default", or not at all for "none"),
// then grows and drops its old generation round after round, and prints `{"changed":…}` on a line
// of its own. With "load" it then counts 32 open streams (`countStream`) and churns again, then
// lets 23 of them end, churns, lets one more end and churns once more, each phase after a
// `phase: <name>` line. Run with
// `--trace-incremental-marking`: the trace says whether marking started, and in which phase.
import { countStream, disableIncrementalMarking } from '../../src/heap-mode';

// V8 writes its trace straight to file descriptor 1, which Node makes non-blocking: with a parent
// slow to read, a trace line was lost (EAGAIN) while `console.log` queued the phase lines until the
// script ended, so starts were counted in the wrong phase. Blocking, every line is written in order.
(process.stdout as unknown as { _handle?: { setBlocking?(blocking: boolean): void } })._handle?.setBlocking?.(true);

function churn(phase: string): void {
  console.log(`phase: ${phase}`);
  let keep: object[] = [];
  for (let round = 0; round < 8; round++) {
    for (let i = 0; i < 300_000; i++) keep.push({ i, s: `x${i}` });
    keep = [];
  }
}

const call = process.argv[2] ?? 'none';
const load = call === 'load';
const changed = call === 'none' ? null : disableIncrementalMarking(call === 'default' || load ? undefined : (JSON.parse(call) as string[]));
churn('few streams');
if (load) {
  for (let i = 0; i < 32; i++) countStream(1);
  churn('32 streams');
  for (let i = 0; i < 23; i++) countStream(-1);
  churn('9 streams');
  countStream(-1);
  churn('8 streams');
}
console.log(JSON.stringify({ changed }));
