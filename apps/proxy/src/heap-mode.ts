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
 * Media requests in flight (from their arrival to the close of their response) at which marking
 * goes back on, and at or below which it goes off again. Measured with the bench's clients
 * (tools/bench/README.md, "Marking that follows the load" and "Marking under many short
 * requests"): with marking off, the buffers that many slow streams have written stay in memory
 * until the old generation is full, and under many clients of short requests most full
 * collections were one pause of 15-33 ms on the main thread; with it on, one stream after a load
 * ran a mark-compact for every 15-45 MiB it streamed. The gap between the two keeps a count that
 * hovers around one threshold from turning marking on and off again and again.
 */
const MARKING_ON_AT = 32;
const MARKING_OFF_AT = 8;

/**
 * How long after `disableIncrementalMarking` marking stays on, whatever is served (the start-up
 * window). V8's memory reducer gives back the heap the process grew while it started (about 10 MiB
 * of resident memory) through incremental marking. It looks 8 s after start and every 8 s after
 * that until the process allocates little: 8-9 s after start in 23 timed starts on a quiet
 * machine; 16, 24 or 32 s, and once later than 36 s, on a busy one (tools/bench/README.md, "The
 * idle proxy on this machine, this evening"). A media request before then used to turn marking
 * off first, and the process kept that heap for good: the bench's own proxy, asked for a playlist
 * as it starts, idled at 74-75 MiB where one asked nothing settles at 63 ("A request at start
 * kept the start-up heap"). A minute leaves the reducer room for a few more looks; marking on
 * costs a stream of a fresh process nothing measurable (its mark-compacts come after a load). The
 * bench reads an idle RSS 45 s after start (`SETTLED_AFTER_MS` in tools/bench/memory.ts), for the
 * same reason.
 */
const START_UP_MS = 60_000;

/** The longest delay Node's timers take (a longer one fires after 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Whether this module decides marking (the command line did not), whether it is on, the media
 * requests in flight, whether one has arrived since the process started, and the timer of the
 * start-up window while it runs. Per module instance, as the flag is per process: one proxy per
 * process.
 */
const state: { managed: boolean; marking: boolean; requests: number; served: boolean; startUp: NodeJS.Timeout | undefined } = {
  managed: false,
  marking: true,
  requests: 0,
  served: false,
  startUp: undefined,
};

/**
 * Whether marking is wanted in `state`: on through the start-up window (`START_UP_MS`) and until
 * the first media request; then off, except under a load, from 32 requests in flight until they
 * have come down to 8. Once requests have come, it stays off while none is in flight: on in those
 * gaps, the reducer shrank the heap in every idle gap of 8 s or more, and the next burst of
 * requests paid to grow it again (tools/bench/README.md, "The idle proxy gives back its start-up
 * heap").
 */
function markingWanted({ requests, marking, served, startUp }: typeof state): boolean {
  return startUp !== undefined || !served || requests >= MARKING_ON_AT || (marking && requests > MARKING_OFF_AT);
}

function followRequests(): void {
  const wanted = markingWanted(state);
  if (wanted === state.marking) return;
  state.marking = wanted;
  setFlagsFromString(wanted ? '--incremental-marking' : '--no-incremental-marking');
}

/**
 * Counts a media request that arrives (`+1`) or whose response closed (`-1`), and, once
 * `disableIncrementalMarking` has taken over marking, turns it off when the first one arrives, on
 * when 32 are in flight, and off again when no more than 8 are left. A request counts for its
 * whole life, not only while its body is copied: under many clients of short requests each body
 * is copied within one turn of the event loop, so a count of copies stayed at a few while 512
 * requests were in flight.
 */
export function countMediaRequest(change: 1 | -1): void {
  state.requests += change;
  if (change === 1) state.served = true;
  if (state.managed) followRequests();
}

/** How many media requests are in flight now (counted by `countMediaRequest`). */
export function mediaRequestsInFlight(): number {
  return state.requests;
}

/** The end of the start-up window (its timer's callback): from here on, marking follows the media requests alone. */
function endStartUp(): void {
  state.startUp = undefined;
  followRequests();
}

/**
 * Takes over V8's incremental marking for the whole process (every isolate, worker threads
 * included), unless Node's command line decides it: off once its start-up window is over and the
 * process serves media, except to many clients at once. After a load (a thousand slow clients in
 * our measurements) V8 kept starting an incremental mark-compact for every 15-45 MiB of each later
 * stream, although the scavenges between them promoted nothing: 1.3-1.6x the CPU per GiB that
 * stream cost before (tools/bench/README.md, "The stream after a load"). Without it V8 collects
 * the old generation when it reaches its limit, in one pause on the main thread.
 *
 * Marking follows the media requests in flight (`countMediaRequest`): on for the first
 * `startUpMs` (60,000 unless given, `START_UP_MS`; 0 for none) and until the first one arrives, so
 * that V8's memory reducer gives back the heap grown while the process started; then off; on again
 * from 32 requests in flight until no more than 8 are left.
 * Under such a load marking finds in time the buffers that many slow clients leave behind, and
 * works in steps between requests, where without it most full collections were one pause of
 * 15-33 ms for the clients of 512 short requests. The steps run on the main thread: V8's
 * concurrent marking goes off with incremental marking the first time and stays off (turned back
 * on at run time, V8 crashed). That first time, on Node 20, V8 can abort the process if concurrent
 * marking is at work (rare; README.md, "V8's incremental marking"). `strm-proxy serve` calls it at
 * start.
 * Returns false when the command line decides (marking is then left alone), true when it took
 * over. Throws a `TypeError` for a `startUpMs` that is not a whole number of milliseconds from 0 to
 * 2,147,483,647 (the longest delay Node's timers take).
 *
 * @example
 * disableIncrementalMarking(); // true: marking off a minute after start once media is served, on under a load
 * const proxy = await startProxy(loadConfig(process.env));
 */
export function disableIncrementalMarking(execArgv: readonly string[] = process.execArgv, options: { startUpMs?: number } = {}): boolean {
  const startUpMs = options.startUpMs ?? START_UP_MS;
  if (!Number.isInteger(startUpMs) || startUpMs < 0 || startUpMs > MAX_TIMER_MS) {
    const received = typeof startUpMs === 'string' ? JSON.stringify(startUpMs) : String(startUpMs);
    throw new TypeError(`options.startUpMs must be a whole number of milliseconds from 0 to ${MAX_TIMER_MS}; received ${received}`);
  }
  if (namesIncrementalMarking(execArgv)) return false;
  state.managed = true;
  // A second call starts its window anew.
  clearTimeout(state.startUp);
  state.startUp = startUpMs > 0 ? setTimeout(endStartUp, startUpMs).unref() : undefined;
  followRequests();
  return true;
}
