import type { ServerResponse } from 'node:http';
import { checkUpstreamRange, parseContentRange } from '@strm/range';
import { discardBody, pumpBody } from './body-pump';
import { ProxyError } from './errors';
import type { ClientConditionals } from './fetch-resource';
import { passedResponseHeaders, type HeaderBag, type UpstreamResponse } from './upstream';

/** Resumes of one response: in all, and in a row without a byte of progress. */
const MAX_RESUMES = 50;
const MAX_RESUMES_WITHOUT_PROGRESS = 3;

const header = (headers: HeaderBag, name: string): string | undefined => {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
};

/** A strong ETag, or a Last-Modified date: what may go into an If-Range. */
function ifRangeValidator(headers: Record<string, string>): string | undefined {
  const etag = headers.etag;
  if (etag !== undefined && etag.startsWith('"')) return etag;
  return headers['last-modified'];
}

export interface MediaResponse {
  upstream: UpstreamResponse;
  method: 'GET' | 'HEAD';
  /** The Range and If-Range the proxy forwarded. */
  forwarded: ClientConditionals;
  /** Bytes read from the body while sniffing it. */
  head: readonly Buffer[];
  /** Fetches the same resource again with other conditionals (following a refreshed URL). */
  refetch: (conditionals: ClientConditionals) => Promise<UpstreamResponse>;
  writeHead: (status: number, headers: Record<string, string>) => void;
  /** Called as body bytes go out (per chunk), so counts are live while a long body streams. */
  onBytes: (count: number) => void;
  onResume: (outcome: 'resumed' | 'gave-up') => void;
}

/**
 * Streams a media body to the client with exact Range semantics: an upstream 206 is checked
 * against the request, a 200 to a Range request is sliced, a 416 keeps `bytes *\/size`, and
 * wrong bytes are never sent. When the upstream body breaks off, the rest is requested
 * (`Range: bytes=N-`, `If-Range`) and appended to the same response; when the rest cannot be
 * had the client connection is aborted, so a short body never looks complete.
 */
export async function sendMedia(res: ServerResponse, media: MediaResponse): Promise<void> {
  const { upstream } = media;
  const verdict = checkUpstreamRange({
    range: media.forwarded.range,
    ifRange: media.forwarded['if-range'],
    status: upstream.status,
    contentRange: header(upstream.headers, 'content-range'),
    contentLength: header(upstream.headers, 'content-length'),
    etag: header(upstream.headers, 'etag'),
    lastModified: header(upstream.headers, 'last-modified'),
  });

  let status = upstream.status;
  const headers = passedResponseHeaders(upstream.headers);
  let skip = 0;
  let from = 0;
  let to: number | undefined;
  switch (verdict.kind) {
    case 'unsatisfiable':
      discardBody(upstream.body);
      throw new ProxyError('STRM_RANGE_NOT_SATISFIABLE', 'the requested range lies outside the resource', { headers: verdict.headers });
    case 'mismatch':
      discardBody(upstream.body);
      throw new ProxyError('STRM_UPSTREAM_BAD_RANGE', `the upstream answered with other bytes than were asked for (${verdict.reason})`);
    case 'slice':
      status = 206;
      Object.assign(headers, verdict.headers);
      skip = verdict.range.start;
      from = verdict.range.start;
      to = verdict.range.end;
      break;
    case 'pass':
    case 'full': {
      if (status === 206) {
        const range = parseContentRange(headers['content-range']);
        if (range.kind === 'range') {
          from = range.start;
          to = range.end;
        }
      } else if (headers['content-length'] !== undefined && /^\d+$/.test(headers['content-length'])) {
        to = Number(headers['content-length']) - 1;
      }
    }
  }
  // The proxy honours ranges even for an origin that does not (by slicing), so it says so.
  if (status === 200 || status === 206) headers['accept-ranges'] = 'bytes';
  media.writeHead(status, headers);
  if (media.method === 'HEAD' || status === 204 || status === 304) {
    discardBody(upstream.body);
    res.end();
    return;
  }

  const total = to === undefined ? undefined : to - from + 1;
  const validator = ifRangeValidator(headers);
  let body = upstream.body;
  let initial: readonly Buffer[] = media.head;
  let delivered = 0;
  let resumes = 0;
  let idleResumes = 0;
  for (;;) {
    const outcome = await pumpBody(body, res, { initial, skip, limit: total === undefined ? undefined : total - delivered, onWrite: media.onBytes });
    delivered += outcome.written;
    idleResumes = outcome.written > 0 ? 0 : idleResumes + 1;
    if (outcome.kind === 'client-gone') return;
    if (outcome.kind === 'done' && (total === undefined || delivered >= total)) {
      res.end();
      return;
    }
    // The upstream broke off (or ended short of its own length): fetch the rest.
    resumes += 1;
    const allowed = resumes <= MAX_RESUMES && idleResumes < MAX_RESUMES_WITHOUT_PROGRESS;
    const next = allowed ? await resumeAt(media, from + delivered, to, validator) : undefined;
    if (next === undefined) {
      media.onResume('gave-up');
      res.destroy();
      return;
    }
    media.onResume('resumed');
    body = next.body;
    skip = next.skip;
    initial = [];
  }
}

async function resumeAt(media: MediaResponse, offset: number, to: number | undefined, validator: string | undefined) {
  const range = `bytes=${offset}-${to ?? ''}`;
  let next: UpstreamResponse;
  try {
    next = await media.refetch({ range, ...(validator !== undefined ? { 'if-range': validator } : {}) });
  } catch {
    return undefined;
  }
  const verdict = checkUpstreamRange({
    range,
    ifRange: validator,
    status: next.status,
    contentRange: header(next.headers, 'content-range'),
    contentLength: header(next.headers, 'content-length'),
    etag: header(next.headers, 'etag'),
    lastModified: header(next.headers, 'last-modified'),
  });
  if (verdict.kind === 'pass' && next.status === 206) return { body: next.body, skip: 0 };
  if (verdict.kind === 'slice') return { body: next.body, skip: verdict.range.start };
  // The resource changed (If-Range failed), or the upstream sent other bytes: give up.
  discardBody(next.body);
  return undefined;
}
