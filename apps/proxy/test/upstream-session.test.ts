import { describe, expect, test } from 'vitest';
import { createMetrics } from '../src/metrics';
import { Relocator } from '../src/playlist-links';
import type { FreshTargetSource } from '../src/refresh';
import { UpstreamSession } from '../src/upstream-session';
import { counterValue, EPISODE, fakeUpstream, scriptedResolver, type FakeAnswer, type FakeRequest } from './support/fake-upstream';

// The upstream session without sockets: a scripted UpstreamFetcher, a real resolver client over
// a scripted source, real metrics.

async function sessionWith(answer: (request: FakeRequest) => FakeAnswer, source: FreshTargetSource = { kind: 'entry', episode: EPISODE }) {
  const upstream = fakeUpstream(answer);
  const resolver = scriptedResolver(({ count }) => `https://cdn.example/v${count}.mp4`);
  // The handler resolved the entry before it opened the session: v1 is in the cache.
  await resolver.resolve(EPISODE);
  const metrics = createMetrics({ defaults: false });
  const relocator = new Relocator({ upstream, metrics, resolver });
  const controller = new AbortController();
  const session = new UpstreamSession({ upstream, metrics, resolver, relocator }, {
    target: { url: 'https://cdn.example/v1.mp4', headers: { referer: 'https://provider.example/' } },
    source,
    route: 'stream',
    signal: controller.signal,
  });
  return { session, upstream, resolver, metrics, controller };
}

const ok = (headers: Record<string, string> = {}): FakeAnswer => ({ status: 200, headers: { 'content-length': '4', etag: '"v1"', ...headers }, body: 'abcd' });

describe('UpstreamSession.fetch', () => {
  test('forwards the resolver headers and the client conditionals on GET, none of them on HEAD', async () => {
    const { session, upstream } = await sessionWith(() => ok());
    await session.fetch('GET', { range: 'bytes=0-1', 'if-none-match': '"v1"' });
    await session.fetch('HEAD', { range: 'bytes=0-1' });
    expect(upstream.requests.map((r) => [r.method, r.headers])).toEqual([
      ['GET', { referer: 'https://provider.example/', range: 'bytes=0-1', 'if-none-match': '"v1"' }],
      ['HEAD', { referer: 'https://provider.example/' }],
    ]);
    expect(session.status).toBe(200);
    expect(session.host).toBe('cdn.example');
  });

  test('a burst of 503s is asked again on the same URL, counted, without a refresh', async () => {
    let calls = 0;
    const { session, upstream, metrics, resolver } = await sessionWith(() => (++calls <= 2 ? { status: 503 } : ok()));
    const answer = await session.fetch('GET', {});
    expect(answer.status).toBe(200);
    expect(upstream.requests.map((r) => r.url)).toEqual(Array(3).fill('https://cdn.example/v1.mp4'));
    expect(await counterValue(metrics.upstreamResponses, { class: '5xx' })).toBe(2);
    expect(await counterValue(metrics.upstreamResponses, { class: '2xx' })).toBe(1);
    expect(session.refreshes).toBe(0);
    expect(resolver.refreshes()).toBe(0);
  });

  test('a stale entry URL (403) is re-resolved once; the fresh URL serves this and every later request', async () => {
    const { session, upstream, metrics, resolver } = await sessionWith((r) => (r.url.endsWith('/v1.mp4') ? { status: 403 } : ok()));
    const answer = await session.fetch('GET', {});
    expect(answer.status).toBe(200);
    expect(session.refreshes).toBe(1);
    expect(resolver.refreshes()).toBe(1);
    expect(session.target.url).toBe('https://cdn.example/v2.mp4');
    expect(await counterValue(metrics.refreshes, { route: 'stream' })).toBe(1);
    await session.resume({ range: 'bytes=2-3', ifRange: '"v1"' });
    expect(upstream.requests.map((r) => r.url)).toEqual(['https://cdn.example/v1.mp4', 'https://cdn.example/v2.mp4', 'https://cdn.example/v2.mp4']);
  });

  test('the answer after the refresh is final, whatever it is', async () => {
    const { session, upstream } = await sessionWith(() => ({ status: 410 }));
    expect((await session.fetch('GET', {})).status).toBe(410);
    expect(upstream.requests).toHaveLength(2);
    expect(session.refreshes).toBe(1);
  });

  test.each([
    ['timeout', 'STRM_UPSTREAM_TIMEOUT', 2],
    ['network', 'STRM_UPSTREAM_FAILED', 2],
    ['refused', 'STRM_UPSTREAM_REFUSED', 1],
  ] as const)('an upstream that fails with %s → %s after %i request(s)', async (fail, code, requests) => {
    const { session, upstream, metrics } = await sessionWith(() => ({ fail }));
    await expect(session.fetch('GET', {})).rejects.toMatchObject({ code });
    expect(upstream.requests).toHaveLength(requests);
    expect(await counterValue(metrics.upstreamResponses, { class: fail })).toBe(requests);
  });

  test('HEAD refused with 405: a one-byte GET stands in, rebuilt as the head of the whole resource', async () => {
    const { session, upstream } = await sessionWith((r) =>
      r.method === 'HEAD' ? { status: 405 } : { status: 206, headers: { 'content-range': 'bytes 0-0/1234', 'content-length': '1', 'content-type': 'video/mp4' }, body: 'a' },
    );
    const answer = await session.fetch('HEAD', {});
    expect({ status: answer.status, headers: answer.headers }).toEqual({ status: 200, headers: { 'content-length': '1234', 'content-type': 'video/mp4', 'accept-ranges': 'bytes' } });
    expect(upstream.requests.map((r) => `${r.method} ${r.headers.range ?? ''}`)).toEqual(['HEAD ', 'GET bytes=0-0']);
  });

  test('a link without lineage keeps its stale answer: nothing to relocate', async () => {
    const { session, upstream } = await sessionWith(() => ({ status: 403 }), { kind: 'link', lineage: undefined });
    expect((await session.fetch('GET', {})).status).toBe(403);
    expect(upstream.requests).toHaveLength(1);
    expect(session.refreshes).toBe(0);
  });
});

describe('UpstreamSession.resume', () => {
  test('asks for the rest with Range and If-Range; a 206 of those bytes is appended as it is', async () => {
    const { session, upstream, metrics } = await sessionWith(() => ({ status: 206, headers: { 'content-range': 'bytes 2-3/4', 'content-length': '2' }, body: 'cd' }));
    const resumed = await session.resume({ range: 'bytes=2-3', ifRange: '"v1"' });
    expect(resumed?.skip).toBe(0);
    expect(upstream.requests[0]!.headers).toMatchObject({ range: 'bytes=2-3', 'if-range': '"v1"' });
    expect(session.resumes).toBe(1);
    expect(await counterValue(metrics.resumes, { outcome: 'resumed' })).toBe(1);
  });

  test('an origin that ignores the Range: the rest is sliced from its 200', async () => {
    const { session } = await sessionWith(() => ok());
    expect((await session.resume({ range: 'bytes=2-3', ifRange: '"v1"' }))?.skip).toBe(2);
  });

  test.each([
    ['the resource changed (If-Range failed)', ok({ etag: '"v2"' })],
    ['other bytes', { status: 206, headers: { 'content-range': 'bytes 0-1/4' }, body: 'ab' }],
    ['the origin is down', { status: 503 }],
    ['the origin is unreachable', { fail: 'network' }],
  ] as const)('gives up when %s', async (_name, answer) => {
    const { session, metrics } = await sessionWith(() => answer);
    expect(await session.resume({ range: 'bytes=2-3', ifRange: '"v1"' })).toBeUndefined();
    expect(await counterValue(metrics.resumes, { outcome: 'gave-up' })).toBe(1);
  });

  test('gives up without a request once the budget is spent (no ask)', async () => {
    const { session, upstream } = await sessionWith(() => ok());
    expect(await session.resume(undefined)).toBeUndefined();
    expect(upstream.requests).toHaveLength(0);
    expect(session.resumes).toBe(1);
  });
});
