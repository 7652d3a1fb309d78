// A child Node for heap-mode.test.ts: calls `disableIncrementalMarking`, then grows and drops its
// old generation round after round, with no media request in flight and then with one
// (`countMediaRequest`), each phase after a `phase: <name>` line, and prints `{"changed":…}` on a
// line of its own. argv[2] says how it calls:
// - "none": not at all;
// - "default" and "load": Node's own `process.execArgv`, without a start-up window; with "load",
//   after one request it counts 32 in flight and churns again, then lets 23 of them end, one more,
//   and the last 8, churning after each;
// - "start-up": with its defaults (a start-up window of a minute, longer than the probe runs);
// - "start-up over": with a window of 1 ms, and waits for a timer of 1 ms before it churns (Node
//   runs timers of one delay in the order they were set, so the window's has fired by then);
// - a JSON array: those arguments as `execArgv`, without a start-up window.
// Run with `--trace-incremental-marking`: the trace says whether marking started, and in which phase.
import { setTimeout as delay } from 'node:timers/promises';
import { countMediaRequest, disableIncrementalMarking } from '../../src/heap-mode';

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

function callDisable(call: string): boolean | null {
  if (call === 'none') return null;
  if (call === 'start-up') return disableIncrementalMarking();
  if (call === 'start-up over') return disableIncrementalMarking(undefined, { startUpMs: 1 });
  const ours = call === 'default' || call === 'load';
  return disableIncrementalMarking(ours ? undefined : (JSON.parse(call) as string[]), { startUpMs: 0 });
}

const call = process.argv[2] ?? 'none';
const changed = callDisable(call);
if (call === 'start-up over') await delay(1);
churn('no request');
requests(1, 1);
churn('one request');
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
