import type { ServerResponse } from 'node:http';
import { pumpBody } from './body-pump';
import { cutAnswer, type RequestFailure } from './request-context';
import type { UpstreamResponse } from './upstream';

/** Resumes of one response: in all, and in a row without a byte of progress. */
const MAX_RESUMES = 50;
const MAX_RESUMES_WITHOUT_PROGRESS = 3;

/** The request for the rest of a body: `Range: bytes=N-[M]`, and `If-Range` when there is a validator. */
export interface ResumeAsk {
  range: string;
  ifRange?: string | undefined;
}

/** Who resumes a broken body (the upstream session). */
export interface BodyResumer {
  resume(ask: ResumeAsk | undefined): Promise<{ body: UpstreamResponse['body']; skip: number } | undefined>;
}

/** A strong ETag, or a Last-Modified date: what may go into an If-Range. */
function ifRangeValidator(headers: Readonly<Record<string, string>>): string | undefined {
  const etag = headers.etag;
  if (etag !== undefined && etag.startsWith('"')) return etag;
  return headers['last-modified'];
}

/**
 * Where the delivery of one body stands: the resource's bytes `first` to `last` are owed to the
 * client, `delivered` of them are sent, and a bounded number of resumes may fetch the rest.
 *
 * @example
 * const position = new BodyPosition({ first: 0, last: 999, headers: { etag: '"v1"' } });
 * position.advance(300);
 * position.nextAsk(); // { range: 'bytes=300-999', ifRange: '"v1"' }
 */
export class BodyPosition {
  readonly first: number;
  readonly last: number | undefined;
  readonly validator: string | undefined;
  delivered = 0;
  #resumes = 0;
  #withoutProgress = 0;

  constructor(body: { first: number; last: number | undefined; headers: Readonly<Record<string, string>> }) {
    this.first = body.first;
    this.last = body.last;
    this.validator = ifRangeValidator(body.headers);
  }

  /** Bytes still owed, or undefined when the length is unknown. */
  get remaining(): number | undefined {
    return this.last === undefined ? undefined : this.last - this.first + 1 - this.delivered;
  }

  /** Counts what one run of the body pump wrote. */
  advance(written: number): void {
    this.delivered += written;
    this.#withoutProgress = written > 0 ? 0 : this.#withoutProgress + 1;
  }

  /** The request for the rest, or undefined once the resume budget is spent. */
  nextAsk(): ResumeAsk | undefined {
    this.#resumes += 1;
    if (this.#resumes > MAX_RESUMES || this.#withoutProgress >= MAX_RESUMES_WITHOUT_PROGRESS) return undefined;
    const range = `bytes=${this.first + this.delivered}-${this.last ?? ''}`;
    return this.validator === undefined ? { range } : { range, ifRange: this.validator };
  }
}

/**
 * Streams a body to the client; when the upstream body breaks off (or ends short of its own
 * length), the rest is fetched (`Range: bytes=N-`, `If-Range`) and appended to the same response.
 * When the rest cannot be had the client connection is aborted, so a short body never looks
 * complete. The bytes written are added to `tally.bytes` as they go, chunk by chunk (the log
 * line may be written while a resume is still under way; the status page reads it live), and a
 * body given up on leaves its `tally.failure`.
 */
export async function deliverResumingBody(
  res: ServerResponse,
  resumer: BodyResumer,
  start: { body: UpstreamResponse['body']; head: Buffer[]; skip: number; position: BodyPosition },
  tally: { bytes: number; failure: RequestFailure | undefined },
): Promise<void> {
  const { position } = start;
  let { body, skip } = start;
  for (;;) {
    // pumpBody empties the head as it writes it: a resumed body starts with nothing before it.
    const outcome = await pumpBody(body, res, { initial: start.head, skip, limit: position.remaining, tally });
    position.advance(outcome.written);
    if (outcome.kind === 'client-gone') return;
    if (outcome.kind === 'done' && (position.remaining === undefined || position.remaining <= 0)) {
      res.end();
      return;
    }
    const next = await resumer.resume(position.nextAsk());
    if (next === undefined) {
      tally.failure = { code: 'STRM_UPSTREAM_FAILED', cause: `the upstream body broke off after ${tally.bytes} bytes and could not be resumed; the client connection was cut` };
      cutAnswer(res);
      return;
    }
    ({ body, skip } = next);
  }
}
