// Loaded by strm-proxy.js before the CLI and its dependencies: turns V8's concurrent marking off
// while the heap is still far below the size at which V8 starts marking, so no marking is at work
// when it goes off. `serve` later turns incremental marking off and on with the load
// (src/heap-mode.ts), and V8 turns concurrent marking off with incremental marking: on Node 20,
// doing that while concurrent marking is at work can abort the process ("unreachable code" in
// `ConcurrentMarking::RunMajor`; scripts/marking-off-stress.ts reproduces it). Concurrent marking
// would be off from that first turn on anyway. Left alone when Node's command line names
// incremental or concurrent marking.
import { setFlagsFromString } from 'node:v8';

const MARKING_FLAG = /^--?(?:no[-_]?)?(?:incremental|concurrent)[-_]marking$/;

if (!process.execArgv.some((arg) => MARKING_FLAG.test(arg))) setFlagsFromString('--no-concurrent-marking');
