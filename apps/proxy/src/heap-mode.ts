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

/**
 * Marking wanted with `streams` open, `on` being whether it is on now: on with no stream open, so
 * that V8's memory reducer (which collects through incremental marking) shrinks the heap of an
 * idle proxy; off for a few streams; on under a load, until it has come down to 8.
 */
function markingWanted(streams: number, on: boolean): boolean {
  return streams === 0 || streams >= MARKING_ON_AT || (on && streams > MARKING_OFF_AT);
}

function followStreams(): void {
  const wanted = markingWanted(state.streams, state.marking);
  if (wanted === state.marking) return;
  state.marking = wanted;
  setFlagsFromString(wanted ? '--incremental-marking' : '--no-incremental-marking');
}

/**
 * Counts a media stream that starts (`+1`) or ends (`-1`), and, once `disableIncrementalMarking`
 * has taken over marking, turns it off while 1 to 31 streams are open and back on when no stream
 * is open, or 32 are at once (off again when no more than 8 are left).
 */
export function countStream(change: 1 | -1): void {
  state.streams += change;
  if (state.managed) followStreams();
}

/** How many media streams are open now (counted by `countStream`). */
export function openStreamCount(): number {
  return state.streams;
}

/**
 * Turns V8's incremental marking off for the whole process (every isolate, worker threads
 * included) while it streams to a few clients, unless Node's command line decides it. After a load
 * (a thousand slow clients in our measurements) V8 kept starting an incremental mark-compact for
 * every 15-45 MiB of each later stream, although the scavenges between them promoted nothing:
 * 1.3-1.6x the CPU per GiB that stream cost before (tools/bench/README.md, "The stream after a
 * load"). Without it V8 collects the old generation when it reaches its limit, in one pause on the
 * main thread.
 *
 * Marking follows the open media streams (`countStream`): off while 1 to 31 are open; on while none
 * is, so that V8's memory reducer, which starts its collections through incremental marking,
 * shrinks the heap of an idle proxy (by about 10 MiB of resident memory after start-up); and on
 * while 32 or more are open (many slow clients leave the buffers written to them for a collection
 * to find, which marking finds in time), until no more than 8 are left. `strm-proxy serve` calls it
 * at start. Returns false when the command line decides (marking is then left alone), true when it
 * took over.
 *
 * @example
 * disableIncrementalMarking(); // true: incremental marking off while a few streams are open
 * const proxy = await startProxy(loadConfig(process.env));
 */
export function disableIncrementalMarking(execArgv: readonly string[] = process.execArgv): boolean {
  if (namesIncrementalMarking(execArgv)) return false;
  state.managed = true;
  followStreams();
  return true;
}
