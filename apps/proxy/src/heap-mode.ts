import { setFlagsFromString } from 'node:v8';

/**
 * A flag that already decides it, in any spelling V8 takes: one or two dashes, `no` with or
 * without a separator, `-` or `_` between the words (`--no_incremental_marking`).
 */
const MARKING_FLAG = /^--?(?:no[-_]?)?incremental[-_]marking$/;

/** True when Node's command line (`process.execArgv`) turns incremental marking on or off itself. */
export function namesIncrementalMarking(execArgv: readonly string[]): boolean {
  return execArgv.some((arg) => MARKING_FLAG.test(arg));
}

/**
 * Turns V8's incremental marking off for the whole process (every isolate, worker threads
 * included), unless Node's command line decides it. After a load (a thousand slow clients in our
 * measurements) V8 kept starting an incremental mark-compact for every 15-45 MiB of each later
 * stream, although the scavenges between them promoted nothing: 1.3-1.6x the CPU per GiB that
 * stream cost before (tools/bench/README.md, "The stream after a load"). Without it V8 collects
 * the old generation when it reaches its limit, in one pause on the main thread, and its memory
 * reducer (which starts its collections through incremental marking) no longer shrinks the heap
 * of an idle process. Nothing here turns marking back on. `strm-proxy serve` calls it at start.
 * Returns false when the command line decides, true when it turned marking off.
 *
 * @example
 * disableIncrementalMarking(); // true: incremental marking off from here on
 * const proxy = await startProxy(loadConfig(process.env));
 */
export function disableIncrementalMarking(execArgv: readonly string[] = process.execArgv): boolean {
  if (namesIncrementalMarking(execArgv)) return false;
  setFlagsFromString('--no-incremental-marking');
  return true;
}
