// What the proxy relies on from an origin, checked against the origin of a benchmark run before
// anything is measured: the bench may swap the fake CDN for nginx serving the same files, and a
// route that meets an origin answering differently would measure something else (a proxy that
// falls back to whole bodies, a player that cannot seek). Checked: the length, type and
// validators of every file, exact single ranges (RFC 9110 §14), If-Range, conditional GET, the
// answer to an unsatisfiable range, and keep-alive.
import { open, stat } from 'node:fs/promises';
import { Agent, request } from 'undici';

/** One file of the media folder, the URL the origin serves it at, and the Content-Type it must have. */
export interface OriginFile {
  url: string;
  path: string;
  contentType: string;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const header = (answer: Answer, name: string): string | undefined => {
  const value = answer.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

async function bytesOf(path: string, start: number, end: number): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(end - start);
    await file.read(buffer, 0, buffer.length, start);
    return buffer;
  } finally {
    await file.close();
  }
}

/** The head of `file` (HEAD): 200, its exact length and type, a strong ETag, its Last-Modified, byte ranges. */
function headProblems(file: OriginFile, size: number, mtime: Date, answer: Answer): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, what: string, received: string | undefined) => {
    if (!ok) problems.push(`${what}, received ${JSON.stringify(received ?? null)}`);
  };
  expect(answer.status === 200, 'HEAD: status 200', String(answer.status));
  expect(header(answer, 'content-length') === String(size), `HEAD: Content-Length ${size}`, header(answer, 'content-length'));
  expect((header(answer, 'content-type') ?? '').split(';')[0] === file.contentType, `HEAD: Content-Type ${file.contentType}`, header(answer, 'content-type'));
  expect(/^"[^"]+"$/.test(header(answer, 'etag') ?? ''), 'HEAD: a strong ETag', header(answer, 'etag'));
  const lastModified = Date.parse(header(answer, 'last-modified') ?? '');
  expect(Math.floor(lastModified / 1000) === Math.floor(mtime.getTime() / 1000), `HEAD: Last-Modified ${mtime.toUTCString()}`, header(answer, 'last-modified'));
  expect(header(answer, 'accept-ranges') === 'bytes', 'HEAD: Accept-Ranges bytes', header(answer, 'accept-ranges'));
  return problems;
}

/** A request whose answer must be 206 with exactly `[start, end]` of the file. */
interface RangeCase {
  name: string;
  headers: Record<string, string>;
  start: number;
  end: number;
}

function rangeCases(size: number, etag: string): RangeCase[] {
  return [
    { name: 'Range bytes=1000-1999', headers: { range: 'bytes=1000-1999' }, start: 1000, end: 1999 },
    { name: 'Range bytes=-100 (suffix)', headers: { range: 'bytes=-100' }, start: size - 100, end: size - 1 },
    { name: `Range bytes=${size - 10}- (open)`, headers: { range: `bytes=${size - 10}-` }, start: size - 10, end: size - 1 },
    { name: `Range bytes=0-${size + 1000} (past the end)`, headers: { range: `bytes=0-${size + 1000}` }, start: 0, end: size - 1 },
    { name: 'Range with If-Range of its ETag', headers: { range: 'bytes=0-0', 'if-range': etag }, start: 0, end: 0 },
  ];
}

/**
 * The ways a client asks for part of `file`: each single range answered 206 with exactly its bytes,
 * a stale If-Range or several ranges answered 200 with the whole body, past the end 416 with
 * `bytes *\/<size>`, a matching If-None-Match 304, and the connection kept alive. The file should be small (it is read whole twice).
 */
async function rangeProblems(file: OriginFile, size: number, etag: string, fetch: (headers: Record<string, string>) => Promise<Answer>): Promise<string[]> {
  const problems: string[] = [];
  for (const wanted of rangeCases(size, etag)) {
    const answer = await fetch(wanted.headers);
    // (Checked on a GET: undici asks to close the connection after a HEAD.)
    if (/close/i.test(header(answer, 'connection') ?? '')) problems.push(`${wanted.name}: a kept-alive connection, received Connection: close`);
    const expected = await bytesOf(file.path, wanted.start, wanted.end + 1);
    const contentRange = `bytes ${wanted.start}-${wanted.end}/${size}`;
    if (answer.status !== 206 || header(answer, 'content-range') !== contentRange || header(answer, 'content-length') !== String(expected.length) || !answer.body.equals(expected)) {
      problems.push(`${wanted.name}: 206 with Content-Range ${contentRange} and those ${expected.length} bytes, received ${answer.status} with Content-Range ${JSON.stringify(header(answer, 'content-range') ?? null)} and ${answer.body.length} bytes${answer.body.length === expected.length ? ' (other bytes)' : ''}`);
    }
  }
  const whole = await bytesOf(file.path, 0, size);
  for (const [name, headers] of [
    ['Range with a stale If-Range', { range: 'bytes=0-0', 'if-range': '"stale-validator"' }],
    ['Range of two ranges', { range: 'bytes=0-0,2-2' }],
  ] as const) {
    const answer = await fetch(headers);
    if (answer.status !== 200 || !answer.body.equals(whole)) problems.push(`${name}: 200 with the whole file, received ${answer.status} with ${answer.body.length} bytes`);
  }
  const unsatisfiable = await fetch({ range: `bytes=${size}-` });
  if (unsatisfiable.status !== 416 || header(unsatisfiable, 'content-range') !== `bytes */${size}`) {
    problems.push(`Range bytes=${size}- (unsatisfiable): 416 with Content-Range bytes */${size}, received ${unsatisfiable.status} with ${JSON.stringify(header(unsatisfiable, 'content-range') ?? null)}`);
  }
  const notModified = await fetch({ 'if-none-match': etag });
  if (notModified.status !== 304) problems.push(`If-None-Match of its ETag: 304, received ${notModified.status}`);
  return problems;
}

/**
 * Checks that the origin answers for `files` as the proxy needs; the range answers are checked on
 * `rangeFile` (a small one). Returns what is wrong, one line each, naming the URL; empty when
 * all holds.
 *
 * @example
 * ```ts
 * await checkOrigin([{ url, path, contentType: 'video/mp2t' }], 0);
 * // ['http://127.0.0.1:4100/t/x/bench/segment.ts: Range bytes=1000-1999: 206 with Content-Range …, received 200 …']
 * ```
 */
export async function checkOrigin(files: readonly OriginFile[], rangeFile: number): Promise<string[]> {
  const dispatcher = new Agent({ connections: 1 });
  const problems: string[] = [];
  try {
    for (const [index, file] of files.entries()) {
      const fetch = async (headers: Record<string, string>, method: 'GET' | 'HEAD' = 'GET'): Promise<Answer> => {
        const answer = await request(file.url, { dispatcher, method, headers });
        return { status: answer.statusCode, headers: answer.headers, body: Buffer.from(await answer.body.arrayBuffer()) };
      };
      const info = await stat(file.path);
      const head = await fetch({}, 'HEAD');
      const found = headProblems(file, info.size, info.mtime, head);
      if (index === rangeFile && head.status === 200) found.push(...(await rangeProblems(file, info.size, String(header(head, 'etag')), fetch)));
      problems.push(...found.map((problem) => `${file.url}: ${problem}`));
    }
  } finally {
    await dispatcher.close();
  }
  return problems;
}
