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
 * Whether this module decides marking (the command line did not), whether it is on, the open
 * streams, and whether a stream has been open since the process started. Per module instance, as
 * the flag is per process: one proxy per process.
 */
const state = { managed: false, marking: true, streams: 0, streamed: false };

/**
 * Whether marking is wanted in `state`: on until the first stream, so that V8's memory reducer
 * (which collects through incremental marking) gives back the heap the process grew while it
 * started; then off, except under a load, from 32 streams until it has come down to 8. Once
 * streams have run, it stays off while none is open: on in those gaps, the reducer shrank the heap
 * in every idle gap of 8 s or more, and the next burst of requests paid to grow it again
 * (tools/bench/README.md, "The idle proxy gives back its start-up heap").
 */
function markingWanted({ streams, marking, streamed }: typeof state): boolean {
  return !streamed || streams >= MARKING_ON_AT || (marking && streams > MARKING_OFF_AT);
}

function followStreams(): void {
  const wanted = markingWanted(state);
  if (wanted === state.marking) return;
  state.marking = wanted;
  setFlagsFromString(wanted ? '--incremental-marking' : '--no-incremental-marking');
}

/**
 * Counts a media stream that starts (`+1`) or ends (`-1`), and, once `disableIncrementalMarking`
 * has taken over marking, turns it off when the first stream starts, on when 32 are open, and off
 * again when no more than 8 are left.
 */
export function countStream(change: 1 | -1): void {
  state.streams += change;
  if (change === 1) state.streamed = true;
  if (state.managed) followStreams();
}

/** How many media streams are open now (counted by `countStream`). */
export function openStreamCount(): number {
  return state.streams;
}

/**
 * Takes over V8's incremental marking for the whole process (every isolate, worker threads
 * included), unless Node's command line decides it: off once the process streams, except to many
 * clients at once. After a load (a thousand slow clients in our measurements) V8 kept starting an
 * incremental mark-compact for every 15-45 MiB of each later stream, although the scavenges
 * between them promoted nothing: 1.3-1.6x the CPU per GiB that stream cost before
 * (tools/bench/README.md, "The stream after a load"). Without it V8 collects the old generation
 * when it reaches its limit, in one pause on the main thread.
 *
 * Marking follows the open media streams (`countStream`): on until the first one starts, so that
 * V8's memory reducer, which starts its collections through incremental marking, gives back the
 * heap the process grew while it started (about 10 MiB of resident memory, some 9 s after start);
 * then off; on again from 32 open streams (many slow clients leave the buffers written to them for
 * a collection to find, which marking finds in time) until no more than 8 are left. `strm-proxy
 * serve` calls it at start. Returns false when the command line decides (marking is then left
 * alone), true when it took over.
 *
 * @example
 * disableIncrementalMarking(); // true: incremental marking off once streams run, on under a load
 * const proxy = await startProxy(loadConfig(process.env));
 */
export function disableIncrementalMarking(execArgv: readonly string[] = process.execArgv): boolean {
  if (namesIncrementalMarking(execArgv)) return false;
  state.managed = true;
  followStreams();
  return true;
}
