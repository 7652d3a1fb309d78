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
 * Open media streams (bodies being copied to clients) at which marking goes back on, and at or
 * below which it goes off again. Measured with the bench's slow clients (tools/bench/README.md,
 * "Marking that follows the load"): with marking off, the buffers that many slow streams have
 * written stay in memory until the old generation is full; with it on, one stream after a load
 * ran a mark-compact for every 15-45 MiB it streamed. The gap between the two keeps a count that
 * hovers around one threshold from turning marking on and off again and again.
 */
const MARKING_ON_AT = 32;
const MARKING_OFF_AT = 8;

/**
 * Whether this module decides marking (the command line did not), whether it is on, and the open
 * streams. Per module instance, as the flag is per process: one proxy per process.
 */
const state = { managed: false, marking: true, streams: 0 };

function setMarking(on: boolean): void {
  state.marking = on;
  setFlagsFromString(on ? '--incremental-marking' : '--no-incremental-marking');
}

/**
 * Counts a media stream that starts (`+1`) or ends (`-1`), and, once `disableIncrementalMarking`
 * has taken over marking, turns it back on when 32 streams are open at once and off again when
 * no more than 8 are left.
 */
export function countStream(change: 1 | -1): void {
  state.streams += change;
  if (!state.managed) return;
  if (!state.marking && state.streams >= MARKING_ON_AT) setMarking(true);
  else if (state.marking && state.streams <= MARKING_OFF_AT) setMarking(false);
}

/** How many media streams are open now (counted by `countStream`). */
export function openStreamCount(): number {
  return state.streams;
}

/**
 * Turns V8's incremental marking off for the whole process (every isolate, worker threads
 * included) while it streams to few clients, unless Node's command line decides it. After a load
 * (a thousand slow clients in our measurements) V8 kept starting an incremental mark-compact for
 * every 15-45 MiB of each later stream, although the scavenges between them promoted nothing:
 * 1.3-1.6x the CPU per GiB that stream cost before (tools/bench/README.md, "The stream after a
 * load"). Without it V8 collects the old generation when it reaches its limit, in one pause on the
 * main thread, and its memory reducer (which starts its collections through incremental marking)
 * no longer shrinks the heap of an idle process.
 *
 * From then on marking follows the load: on while 32 or more media streams are open (many slow
 * clients leave the buffers written to them for a collection to find, which marking finds in
 * time), off again at 8 or fewer (`countStream`). `strm-proxy serve` calls it at start. Returns
 * false when the command line decides (marking is then left alone), true when it took over.
 *
 * @example
 * disableIncrementalMarking(); // true: incremental marking off from here on, on under a load
 * const proxy = await startProxy(loadConfig(process.env));
 */
export function disableIncrementalMarking(execArgv: readonly string[] = process.execArgv): boolean {
  if (namesIncrementalMarking(execArgv)) return false;
  state.managed = true;
  setMarking(state.streams >= MARKING_ON_AT);
  return true;
}
