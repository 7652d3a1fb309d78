import { describe, expect, test } from 'vitest';
import { loggablePath } from '../src/logger';

const TOKEN = 'v2.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';

describe('loggablePath', () => {
  test.each([
    ['/strm/stream?episode=x&sig=abc', '/strm/stream'],
    [`/strm/proxy/${TOKEN}`, '/strm/proxy/v2.AbCdE…'],
    [`/strm/proxy/${TOKEN}?_HLS_msn=3`, '/strm/proxy/v2.AbCdE…'],
    [`/strm/proxy/${TOKEN}/seg/1.m4s`, '/strm/proxy/v2.AbCdE…/seg/1.m4s'],
    [`/STRM/PROXY/${TOKEN}`, '/STRM/PROXY/v2.AbCdE…'],
    [`/Strm/Proxy/${TOKEN}/init.mp4`, '/Strm/Proxy/v2.AbCdE…/init.mp4'],
    ['/healthz', '/healthz'],
  ])('loggablePath(%j) is %j', (url, expected) => {
    expect(loggablePath(url)).toBe(expected);
  });
});
