// A child Node for heap-mode.test.ts: calls `disableIncrementalMarking` (with the arguments given
// as JSON in argv[2], or the default `process.execArgv` for "default", or not at all for "none"),
// then grows and drops its old generation round after round, and prints `{"changed":…}` on a line
// of its own. Run with `--trace-incremental-marking`: the trace says whether marking started.
import { disableIncrementalMarking } from '../../src/heap-mode';

const call = process.argv[2] ?? 'none';
const changed = call === 'none' ? null : disableIncrementalMarking(call === 'default' ? undefined : (JSON.parse(call) as string[]));
let keep: object[] = [];
for (let round = 0; round < 8; round++) {
  for (let i = 0; i < 300_000; i++) keep.push({ i, s: `x${i}` });
  keep = [];
}
console.log(JSON.stringify({ changed }));
