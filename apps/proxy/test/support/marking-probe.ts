// A child Node for heap-mode.test.ts: calls `disableIncrementalMarking` (with the arguments given
// as JSON in argv[2], or the default `process.execArgv` and no start-up window for "default" and
// "load", or its defaults for "start-up", or not at all for "none"), then grows and drops its old
// generation round after round, with no media request in flight and then with one
// (`countMediaRequest`), each phase after a `phase: <name>` line, and prints `{"changed":…}` on a
// line of its own. With "load", after one request it counts 32 in flight and churns again, then
// lets 23 of them end, one more, and the last 8, churning after each. With "start-up", after one
// request it ends the start-up window (`endStartUp`) and churns again. Run with
// `--trace-incremental-marking`: the trace says whether marking started, and in which phase.
import { countMediaRequest, disableIncrementalMarking, endStartUp } from '../../src/heap-mode';

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

function requests(change: 1 | -1, count: number): void {
  for (let i = 0; i < count; i++) countMediaRequest(change);
}

const call = process.argv[2] ?? 'none';
const ours = call === 'default' || call === 'load';
const changed =
  call === 'none' ? null : call === 'start-up' ? disableIncrementalMarking() : disableIncrementalMarking(ours ? undefined : (JSON.parse(call) as string[]), { startUpMs: 0 });
churn('no request');
requests(1, 1);
churn('one request');
if (call === 'start-up') {
  endStartUp();
  churn('started');
}
if (call === 'load') {
  requests(1, 31);
  churn('32 requests');
  requests(-1, 23);
  churn('9 requests');
  requests(-1, 1);
  churn('8 requests');
  requests(-1, 8);
  churn('no request again');
}
console.log(JSON.stringify({ changed }));
