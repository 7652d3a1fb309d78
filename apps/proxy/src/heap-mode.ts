import { setFlagsFromString } from 'node:v8';

/** A command-line flag that already decides it: `--incremental-marking` or `--no-incremental-marking`. */
const MARKING_FLAG = /^--(?:no-)?incremental[-_]marking$/;

/**
 * Turns V8's incremental marking off in a process that serves streams, unless its command line
 * decides it. After a busy spell (a thousand slow clients) V8 kept starting an incremental
 * mark-compact for every 30 MiB or so of each later stream, although the scavenges between them
 * promoted nothing: 1.3-1.6x the CPU per GiB that stream cost before (tools/bench/README.md, "The
 * stream after a load"). Without incremental marking V8 collects the old generation when it reaches
 * its limit, in one pause. `strm-proxy serve` calls it at start; a program that embeds
 * `startProxy` decides for its own process. Returns whether it changed the flag.
 *
 * @example
 * streamingHeapMode(['--incremental-marking']); // false: the command line decides
 */
export function streamingHeapMode(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => MARKING_FLAG.test(arg))) return false;
  setFlagsFromString('--no-incremental-marking');
  return true;
}
