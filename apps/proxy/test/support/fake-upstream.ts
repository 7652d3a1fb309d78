import { Readable } from 'node:stream';
import { createResolverClient, type EpisodeIdentity, type ResolverClient } from '@strm/resolver-client';
import { UpstreamFetchError, type UpstreamFetcher, type UpstreamResponse } from '../../src/upstream';

/** One request the fake upstream was asked. */
export interface FakeRequest {
  url: string;
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
}

/** An answer of the fake upstream: a status, headers and a body, or a failure kind. */
export type FakeAnswer =
  | { status: number; headers?: Record<string, string>; body?: string | Buffer | Buffer[] }
  | { fail: UpstreamFetchError['kind'] };

/**
 * An `UpstreamFetcher` that answers from a script instead of the network, for the proxy's own
 * modules tested without sockets (the session, relocation). It records every request.
 */
export function fakeUpstream(answer: (request: FakeRequest) => FakeAnswer): UpstreamFetcher & { requests: FakeRequest[] } {
  const requests: FakeRequest[] = [];
  return {
    requests,
    async fetch({ url, method, headers }) {
      const request = { url: String(url), method, headers };
      requests.push(request);
      const scripted = answer(request);
      if ('fail' in scripted) throw new UpstreamFetchError(scripted.fail, `scripted ${scripted.fail}`);
      const chunks = scripted.body === undefined ? [] : Array.isArray(scripted.body) ? scripted.body : [Buffer.from(scripted.body)];
      const body = Readable.from(chunks, { objectMode: false }) as unknown as UpstreamResponse['body'];
      return { url: new URL(request.url), status: scripted.status, headers: scripted.headers ?? {}, body };
    },
    async close() {},
  };
}

/** A real resolver client over a source that hands out `url(refresh, count)`, counting refreshes. */
export function scriptedResolver(url: (call: { refresh: boolean; count: number }) => string): ResolverClient & { refreshes: () => number } {
  let count = 0;
  let refreshes = 0;
  const client = createResolverClient({
    source: {
      async resolve(_identity, options) {
        count += 1;
        if (options.refresh) refreshes += 1;
        return { url: url({ refresh: options.refresh, count }), headers: { referer: 'https://provider.example/' } };
      },
    },
    minRefreshIntervalMs: 0,
  });
  return Object.assign(client, { refreshes: () => refreshes });
}

export const EPISODE: EpisodeIdentity = { site: 'aniworld.to', slug: 'show', season: 1, episode: 2, language: 'German Dub' };

/** The value of a counter (or of one label set of it). */
export async function counterValue(counter: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, string | number> }> }> }, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await counter.get();
  const found = values.find((value) => Object.entries(labels).every(([name, expected]) => value.labels[name] === expected));
  return found?.value ?? 0;
}
