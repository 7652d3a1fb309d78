// Benchmark of @strm/hls-rewrite against hls-parser's parse + stringify round trip, on generated
// 10,000- and 100,000-segment media playlists. Not a test: run it with
//   cd /work/main && node --conditions=@strm/source --import tsx tools/bench/hls-rewrite.ts
// Every measurement runs in a child process of its own (with --expose-gc), so that the heap and the
// peak RSS of one method do not leak into the next.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createPlaylistRewriteTransform, mediaFileName, rewritePlaylist, type UriContext } from '@strm/hls-rewrite';
import * as hlsParser from 'hls-parser';

type Method = 'string' | 'stream' | 'hls-parser';

export interface HlsRewriteBenchRow {
  segments: number;
  method: Method;
  bytes: number;
  medianMs: number;
  mbPerSecond: number;
  /** Live heap growth (sampled after a GC): the largest during a stream run, or what a string run retains (its output). */
  heapDeltaMb: number;
  /** Growth of the process's peak resident set size during one run. */
  peakRssDeltaMb: number;
}

export interface HlsRewriteBenchResult {
  rows: HlsRewriteBenchRow[];
  /** The rows as a Markdown table, with each method's speed relative to hls-parser. */
  table: string;
}

const thisFile = fileURLToPath(import.meta.url);
const root = resolve(thisFile, '..', '..', '..');
const BASE_URL = 'https://cdn.example.com/hls/show/s01e01/1080p/index.m3u8?token=abc123&expires=1893456000';
const CHUNK = 64 * 1024;
const MB = 1024 * 1024;

/** A VOD media playlist of the shape anime CDNs serve: relative segment URIs with a signed query. */
function generateMediaPlaylist(segments: number): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:7', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD'];
  for (let i = 0; i < segments; i++) {
    lines.push('#EXTINF:6.006,', `seg-${String(i).padStart(6, '0')}.ts?token=Zm9vYmFyYmF6cXV4&expires=1893456000&i=${i}`);
  }
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

/**
 * The callback: a relative proxy path per URI, like the proxy's minus sealing the token. With
 * `--with-file-names` it also builds the link's file name (docs/contract.md, "Playlists") (what the proxy adds per URI).
 */
const withFileNames = process.argv.includes('--with-file-names');
const rewriteUri = (context: UriContext) =>
  withFileNames ? `../../proxy/t${context.lineNumber}/${mediaFileName(context)}` : `../../proxy/t${context.lineNumber}/${context.kind}.ts`;

async function runOnce(method: Method, text: string, bytes: Buffer, sample: () => void): Promise<unknown> {
  switch (method) {
    case 'string':
      return rewritePlaylist(text, { baseUrl: BASE_URL, rewriteUri }).text;
    case 'hls-parser':
      return hlsParser.stringify(hlsParser.parse(text));
    case 'stream': {
      const chunks: Buffer[] = [];
      for (let offset = 0; offset < bytes.length; offset += CHUNK) chunks.push(bytes.subarray(offset, offset + CHUNK));
      let written = 0;
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          written += chunk.length;
          sample();
          callback();
        },
      });
      await pipeline(Readable.from(chunks), createPlaylistRewriteTransform({ baseUrl: BASE_URL, rewriteUri }), sink);
      return written;
    }
  }
}

/** Child process: one method on one size; prints one JSON row. */
async function measure(method: Method, segments: number): Promise<HlsRewriteBenchRow> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the measuring child needs --expose-gc');
  const text = generateMediaPlaylist(segments);
  const bytes = Buffer.from(text, 'utf8');

  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.resourceUsage().maxRSS * 1024;
  let heapPeak = heapBefore;
  let writes = 0;
  // Live heap only: collect before each sample, so garbage not yet collected does not count.
  const sample = () => {
    gc();
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  };
  const retained = await runOnce(method, text, bytes, () => {
    if (++writes % 4 === 0) sample();
  });
  sample(); // with the string output still held: what a string rewrite keeps
  const rssAfter = process.resourceUsage().maxRSS * 1024;
  const heapDelta = heapPeak - heapBefore;
  if (typeof retained === 'string' && retained.length === 0) throw new Error('empty output');

  const runs = segments >= 100_000 ? 15 : 60;
  const times: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const started = process.hrtime.bigint();
    await runOnce(method, text, bytes, () => {});
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (i >= 2) times.push(ms); // the first two runs warm the JIT up
  }
  times.sort((a, b) => a - b);
  const medianMs = times[Math.floor(times.length / 2)]!;
  return {
    segments,
    method,
    bytes: bytes.length,
    medianMs,
    mbPerSecond: bytes.length / MB / (medianMs / 1000),
    heapDeltaMb: heapDelta / MB,
    peakRssDeltaMb: (rssAfter - rssBefore) / MB,
  };
}

function measureInChild(method: Method, segments: number): HlsRewriteBenchRow {
  const output = execFileSync(
    process.execPath,
    ['--conditions=@strm/source', '--import', 'tsx', '--expose-gc', thisFile, '--measure', method, String(segments), ...(withFileNames ? ['--with-file-names'] : [])],
    { cwd: root, encoding: 'utf8', maxBuffer: 16 * MB },
  );
  return JSON.parse(output.trim().split('\n').pop()!) as HlsRewriteBenchRow;
}

function formatTable(rows: HlsRewriteBenchRow[]): string {
  const lines = [
    '| segments | size | method | MB/s | median ms | vs hls-parser | heap Δ MB | peak RSS Δ MB |',
    '|---:|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const reference = rows.find((r) => r.segments === row.segments && r.method === 'hls-parser')!;
    lines.push(
      `| ${row.segments.toLocaleString('en-US')} | ${(row.bytes / MB).toFixed(1)} MB | ${row.method} | ${row.mbPerSecond.toFixed(1)} | ` +
        `${row.medianMs.toFixed(1)} | ${(row.mbPerSecond / reference.mbPerSecond).toFixed(1)}x | ${row.heapDeltaMb.toFixed(1)} | ${row.peakRssDeltaMb.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Runs the whole benchmark (each measurement in its own child process) and returns the rows and a
 * Markdown table. Used by `pnpm bench` and by running this file directly.
 */
export async function runHlsRewriteBench(sizes: number[] = [10_000, 100_000]): Promise<HlsRewriteBenchResult> {
  const rows: HlsRewriteBenchRow[] = [];
  for (const segments of sizes) {
    for (const method of ['string', 'stream', 'hls-parser'] as const) rows.push(measureInChild(method, segments));
  }
  return { rows, table: formatTable(rows) };
}

function fail(error: unknown): void {
  console.error(error);
  process.exitCode = 1;
}

// No top-level await: the lead's bench runner may load this file as CommonJS.
const measureAt = process.argv.indexOf('--measure');
if (measureAt !== -1) {
  measure(process.argv[measureAt + 1] as Method, Number(process.argv[measureAt + 2])).then((row) => console.log(JSON.stringify(row)), fail);
} else if (process.argv[1] !== undefined && resolve(process.argv[1]) === thisFile) {
  runHlsRewriteBench().then(({ table }) => console.log(`@strm/hls-rewrite vs hls-parser (Node ${process.version})\n\n${table}`), fail);
}
