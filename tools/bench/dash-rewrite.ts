// Benchmark of @strm/dash-rewrite, and the measurement behind its tokenizer decision: the
// hand-written tokenizer (rewriting, and with an identity callback) against two XML libraries
// that only parse (saxes, htmlparser2 in xmlMode), on generated SegmentList manifests, up to a
// 50 MB one for memory. Not a test: run it with
//   node --conditions=@strm/source --import tsx tools/bench/dash-rewrite.ts [--sizes 10000,100000,640000]
// or `pnpm bench --only dash`. Every measurement runs in a child process of its own (--expose-gc).
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManifestRewriter, rewriteManifest, templateDirectory, type UrlContext } from '@strm/dash-rewrite';
import { Parser } from 'htmlparser2';
import { SaxesParser } from 'saxes';

type Method = 'string' | 'stream' | 'stream identity' | 'hand-written (parse only)' | 'saxes (parse only)' | 'htmlparser2 (parse only)';
const METHODS: readonly Method[] = ['string', 'stream', 'stream identity', 'hand-written (parse only)', 'saxes (parse only)', 'htmlparser2 (parse only)'];

/**
 * The same manifest with its URL elements renamed (same length): the rewriter then only
 * tokenizes and tracks elements, which is what the two libraries do.
 */
function withoutUrlElements(text: string): string {
  return text.replace(/(<\/?)(SegmentURL|BaseURL|SegmentTemplate|Initialization)\b/g, (_match, open: string, name: string) => `${open}${name.slice(0, -1)}X`);
}

export interface DashRewriteBenchRow {
  segments: number;
  method: Method;
  bytes: number;
  medianMs: number;
  mbPerSecond: number;
  /** Live heap growth (after a GC): the largest while streaming, or what a string run retains. */
  heapDeltaMb: number;
  /** Growth of the process's peak resident set size during one run (input bytes excluded: they are held before). */
  peakRssDeltaMb: number;
}

const thisFile = fileURLToPath(import.meta.url);
const root = resolve(thisFile, '..', '..', '..');
const BASE_URL = 'https://cdn.example.com/dash/show/s01e01/manifest.mpd?token=abc123&expires=1893456000';
const CHUNK = 64 * 1024;
const MB = 1024 * 1024;

/** A static MPD with one SegmentList of `segments` SegmentURLs (the largest shape DASH manifests take) and a SegmentTemplate set. */
function generateManifest(segments: number): string {
  const parts = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:full:2011" type="static" mediaPresentationDuration="PT10H" minBufferTime="PT2S">',
    '  <BaseURL>https://cdn.example.com/dash/show/s01e01/</BaseURL>',
    '  <Period id="0">',
    '    <AdaptationSet id="1" contentType="audio"><SegmentTemplate media="audio/$Number%05d$.m4s?token=abc" initialization="audio/init.mp4" duration="2" startNumber="1"/><Representation id="a" bandwidth="128000"/></AdaptationSet>',
    '    <AdaptationSet id="0" contentType="video" mimeType="video/mp4"><Representation id="v" bandwidth="3000000" width="1920" height="1080"><SegmentList timescale="1000" duration="2000">',
    '      <Initialization sourceURL="video/init.mp4"/>',
  ];
  for (let index = 0; index < segments; index++) {
    parts.push(`      <SegmentURL media="video/seg-${String(index).padStart(6, '0')}.m4s?token=Zm9vYmFy&amp;i=${index}" mediaRange="0-${1000 + index}"/>`);
  }
  parts.push('    </SegmentList></Representation></AdaptationSet>', '  </Period>', '</MPD>', '');
  return parts.join('\n');
}

/** The proxy's work per URL minus sealing: the fixed directory and a relative reference under a token. */
const rewriteUrl = (context: UrlContext) => `../../proxy/t${context.lineNumber}/${context.href.slice(templateDirectory(context.href)?.length ?? 0)}`;
const identity = (context: UrlContext) => context.uri;

function runOnce(method: Method, text: string, bytes: Buffer, sample: () => void): number {
  const chunks = (visit: (chunk: Buffer, index: number) => void) => {
    let index = 0;
    for (let offset = 0; offset < bytes.length; offset += CHUNK) visit(bytes.subarray(offset, offset + CHUNK), index++);
  };
  switch (method) {
    case 'string':
      return rewriteManifest(text, { baseUrl: BASE_URL, rewriteUrl }).text.length;
    case 'hand-written (parse only)':
    case 'stream':
    case 'stream identity': {
      const rewriter = new ManifestRewriter({ baseUrl: BASE_URL, rewriteUrl: method === 'stream' ? rewriteUrl : identity });
      let written = 0;
      chunks((chunk, index) => {
        written += Buffer.byteLength(rewriter.push(chunk));
        if (index % 16 === 0) sample();
      });
      return written + rewriter.end().length;
    }
    case 'saxes (parse only)': {
      const parser = new SaxesParser({ xmlns: true });
      let events = 0;
      parser.on('opentag', () => events++);
      parser.on('closetag', () => events++);
      parser.on('text', () => events++);
      const decoder = new TextDecoder();
      chunks((chunk, index) => {
        parser.write(decoder.decode(chunk, { stream: true }));
        if (index % 16 === 0) sample();
      });
      parser.close();
      return events;
    }
    case 'htmlparser2 (parse only)': {
      let events = 0;
      const parser = new Parser({ onopentag: () => events++, onclosetag: () => events++, ontext: () => events++ }, { xmlMode: true });
      const decoder = new TextDecoder();
      chunks((chunk, index) => {
        parser.write(decoder.decode(chunk, { stream: true }));
        if (index % 16 === 0) sample();
      });
      parser.end();
      return events;
    }
  }
}

/** Child process: one method on one size; prints one JSON row. */
function measure(method: Method, segments: number): DashRewriteBenchRow {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the measuring child needs --expose-gc');
  const generated = generateManifest(segments);
  const text = method === 'hand-written (parse only)' ? withoutUrlElements(generated) : generated;
  const bytes = Buffer.from(text, 'utf8');
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.resourceUsage().maxRSS * 1024;
  let heapPeak = heapBefore;
  const sample = () => {
    gc();
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  };
  const result = runOnce(method, text, bytes, sample);
  sample();
  const rssAfter = process.resourceUsage().maxRSS * 1024;
  if (result === 0) throw new Error('no output');

  const runs = bytes.length > 20 * MB ? 3 : segments >= 100_000 ? 9 : 30;
  const times: number[] = [];
  for (let run = 0; run < runs + 2; run++) {
    const started = process.hrtime.bigint();
    runOnce(method, text, bytes, () => {});
    if (run >= 2) times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  const medianMs = times[Math.floor(times.length / 2)]!;
  return {
    segments,
    method,
    bytes: bytes.length,
    medianMs,
    mbPerSecond: bytes.length / MB / (medianMs / 1000),
    heapDeltaMb: (heapPeak - heapBefore) / MB,
    peakRssDeltaMb: (rssAfter - rssBefore) / MB,
  };
}

function measureInChild(method: Method, segments: number): DashRewriteBenchRow {
  const output = execFileSync(
    process.execPath,
    ['--conditions=@strm/source', '--import', 'tsx', '--expose-gc', '--max-old-space-size=2048', thisFile, '--measure', method, String(segments)],
    { cwd: root, encoding: 'utf8', maxBuffer: 16 * MB },
  );
  return JSON.parse(output.trim().split('\n').pop()!) as DashRewriteBenchRow;
}

function formatTable(rows: DashRewriteBenchRow[]): string {
  const lines = ['| segments | size | method | MB/s | median ms | vs saxes | heap Δ MB | peak RSS Δ MB |', '|---:|---:|---|---:|---:|---:|---:|---:|'];
  for (const row of rows) {
    const reference = rows.find((r) => r.segments === row.segments && r.method === 'saxes (parse only)');
    lines.push(
      `| ${row.segments.toLocaleString('en-US')} | ${(row.bytes / MB).toFixed(1)} MB | ${row.method} | ${row.mbPerSecond.toFixed(1)} | ${row.medianMs.toFixed(1)} | ` +
        `${reference ? `${(row.mbPerSecond / reference.mbPerSecond).toFixed(1)}x` : '-'} | ${row.heapDeltaMb.toFixed(1)} | ${row.peakRssDeltaMb.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}

/**
 * Runs the benchmark: every method on each size, and on the largest size (the 50 MB manifest)
 * the streaming methods only (a string rewrite holds the whole document by design).
 */
export async function runDashRewriteBench(sizes: number[] = [10_000, 100_000, 640_000]): Promise<{ rows: DashRewriteBenchRow[]; table: string }> {
  const rows: DashRewriteBenchRow[] = [];
  const largest = Math.max(...sizes);
  for (const segments of sizes) {
    for (const method of METHODS) {
      if (segments === largest && sizes.length > 1 && (method === 'string' || method === 'stream identity')) continue;
      rows.push(measureInChild(method, segments));
    }
  }
  return { rows, table: formatTable(rows) };
}

function fail(error: unknown): void {
  console.error(error);
  process.exitCode = 1;
}

const measureAt = process.argv.indexOf('--measure');
if (measureAt !== -1) {
  try {
    console.log(JSON.stringify(measure(process.argv[measureAt + 1] as Method, Number(process.argv[measureAt + 2]))));
  } catch (error) {
    fail(error);
  }
} else if (process.argv[1] !== undefined && resolve(process.argv[1]) === thisFile) {
  const sizesAt = process.argv.indexOf('--sizes');
  const sizes = sizesAt === -1 ? undefined : process.argv[sizesAt + 1]!.split(',').map(Number);
  runDashRewriteBench(sizes).then(({ table }) => console.log(`@strm/dash-rewrite vs saxes and htmlparser2 (Node ${process.version})\n\n${table}`), fail);
}
