import { describe, expect, test } from 'vitest';
import { matchRoute, type RouteMatch } from '../src/router';

// One router for every endpoint; the plain media spellings are matched first, every other
// spelling the way Express matched it (case-insensitive, one trailing slash, decoded token).
describe('matchRoute', () => {
  test.each<[string, RouteMatch]>([
    ['/strm/stream', { endpoint: 'stream' }],
    ['/strm/stream?slug=x&s=1', { endpoint: 'stream' }],
    ['/strm/stream/', { endpoint: 'stream' }],
    ['/STRM/Stream', { endpoint: 'stream' }],
    ['/strm/stream//', { endpoint: 'not-found' }],
    ['/strm/proxy/abc/seg.ts', { endpoint: 'proxy', token: 'abc' }],
    ['/strm/proxy/abc/seg.ts/', { endpoint: 'proxy', token: 'abc' }],
    ['/STRM/PROXY/abc/seg.ts', { endpoint: 'proxy', token: 'abc' }],
    ['/strm/proxy/%61bc/seg.ts', { endpoint: 'proxy', token: 'abc' }],
    ['/strm/proxy/%E0%A4%A/seg.ts', { endpoint: 'bad-request' }],
    ['/strm/proxy/abc/%zz', { endpoint: 'bad-request' }],
    ['/strm/proxy/a/b/c', { endpoint: 'not-found' }],
    ['/strm/proxy//seg.ts', { endpoint: 'not-found' }],
    ['/strm/proxy/abc', { endpoint: 'not-found' }],
    ['http://proxy.example/strm/stream?x=1', { endpoint: 'stream' }],
    ['/healthz', { endpoint: 'healthz' }],
    ['/readyz/', { endpoint: 'readyz' }],
    ['/Metrics', { endpoint: 'metrics' }],
    ['/', { endpoint: 'not-found' }],
    ['/nope', { endpoint: 'not-found' }],
    ['*', { endpoint: 'not-found' }],
  ])('matchRoute(%j) is %j', (target, expected) => {
    expect(matchRoute(target)).toEqual(expected);
  });
});
