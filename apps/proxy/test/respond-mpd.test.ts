import { rewriteManifest } from '@strm/dash-rewrite';
import { describe, expect, it } from 'vitest';
import { manifestUrlRewriter } from '../src/respond-mpd';
import { parseSealedPath, resolveSealedPath } from '../src/sealed-path';
import type { ProxyTokenPayload } from '../src/tokens';

const MANIFEST_URL = 'https://origin.test/show/e01/manifest.mpd';
const SERVED_AT = 'http://proxy.test/strm/stream?slug=x&sig=y';

/** Rewrites like the proxy, with readable tokens, and resolves player URLs back to upstream URLs as the proxy would. */
function rewrite(manifest: string, publicBaseUrl?: string) {
  const payloads = new Map<string, ProxyTokenPayload>();
  const { outputUrl, rewriteUrl } = manifestUrlRewriter({
    from: 'stream',
    requestPath: '/strm/stream',
    publicBaseUrl,
    headers: undefined,
    seal: (payload) => {
      const token = `T${payloads.size}`;
      payloads.set(token, payload);
      return token;
    },
    locate: () => {},
  });
  const { text } = rewriteManifest(manifest, { baseUrl: MANIFEST_URL, outputUrl, rewriteUrl });
  /** What the proxy fetches for a URL the player built (after expanding templates). */
  const upstreamOf = (playerUrl: string) => {
    const url = new URL(playerUrl);
    // A reverse proxy in front strips its own prefix (`/prefix/strm/proxy/…` → `/strm/proxy/…`).
    const path = url.pathname.slice(url.pathname.indexOf('/strm/proxy/'));
    const sealed = parseSealedPath(path + url.search)!;
    const payload = payloads.get(sealed.token)!;
    return payload.p === 1 ? resolveSealedPath(payload.u, sealed.rest, sealed.query, payload.q) : payload.u;
  };
  return { text, upstreamOf };
}

const bases = (text: string) => [...text.matchAll(/<BaseURL>([^<]*)<\/BaseURL>/g)].map((match) => match[1]!);
const media = (text: string) => /media="([^"]*)"/.exec(text)![1]!;

describe('every layout resolves, on the player side, to the URL the CDN manifest means', () => {
  it('two MPD-level BaseURLs stay alternatives: a kept relative Period BaseURL and template work under either', () => {
    const { text, upstreamOf } = rewrite(`<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">
<BaseURL>https://cdn-a.test/v/</BaseURL><BaseURL>https://cdn-b.test/mirror/v/</BaseURL>
<Period><BaseURL>p1/</BaseURL><AdaptationSet><SegmentTemplate media="$RepresentationID$/$Number$.m4s"/><Representation id="r"/></AdaptationSet></Period></MPD>`);
    const [a, b, period] = bases(text);
    expect(period).toBe('p1/');
    expect(media(text)).toBe('$RepresentationID$/$Number$.m4s');
    for (const [alternative, cdn] of [[a!, 'https://cdn-a.test/v/'], [b!, 'https://cdn-b.test/mirror/v/']] as const) {
      const base = new URL(period!, new URL(alternative, SERVED_AT));
      expect(upstreamOf(new URL('r/7.m4s', base).href)).toBe(`${cdn}p1/r/7.m4s`);
    }
  });

  it('a manifest without BaseURL: templates become sealed paths relative to the entry URL', () => {
    const { text, upstreamOf } = rewrite(`<MPD><Period><AdaptationSet><SegmentTemplate media="seg-$Number%05d$.m4s?tok=1" initialization="init.mp4"/></AdaptationSet></Period></MPD>`);
    expect(text).not.toContain('tok=1');
    expect(upstreamOf(new URL(media(text).replace('$Number%05d$', '00042'), SERVED_AT).href)).toBe('https://origin.test/show/e01/seg-00042.m4s?tok=1');
    expect(upstreamOf(new URL(/initialization="([^"]*)"/.exec(text)![1]!, SERVED_AT).href)).toBe('https://origin.test/show/e01/init.mp4');
  });

  it('a BaseURL that leaves its parent\'s directory (../, another host) gets a token of its own, relative to the parent\'s', () => {
    const { text, upstreamOf } = rewrite(`<MPD><BaseURL>https://cdn.test/a/b/</BaseURL><Period><BaseURL>../c/</BaseURL><AdaptationSet><BaseURL>https://other.test/x/</BaseURL><SegmentURL media="s.m4s"/></AdaptationSet></Period></MPD>`);
    const [root, period, adaptation] = bases(text);
    expect(period).toMatch(/^\.\.\/T\d+\/$/);
    const periodBase = new URL(period!, new URL(root!, SERVED_AT));
    expect(upstreamOf(new URL('seg.m4s', periodBase).href)).toBe('https://cdn.test/a/c/seg.m4s');
    const adaptationBase = new URL(adaptation!, periodBase);
    expect(upstreamOf(new URL(/SegmentURL media="([^"]*)"/.exec(text)![1]!, adaptationBase).href)).toBe('https://other.test/x/s.m4s');
  });

  it('with a public base URL every reference is absolute, so inherited templates resolve whatever BaseURL lies below', () => {
    const { text, upstreamOf } = rewrite(
      `<MPD><Period><AdaptationSet><SegmentTemplate media="$RepresentationID$-$Number$.m4s"/><Representation id="r"><BaseURL>v1/</BaseURL></Representation></AdaptationSet></Period></MPD>`,
      'https://media.test/prefix',
    );
    const representationBase = new URL(bases(text)[0]!, 'https://media.test/prefix/strm/stream');
    expect(media(text)).toMatch(/^https:\/\/media\.test\/prefix\/strm\/proxy\/T\d+\//);
    expect(upstreamOf(new URL(media(text).replace('$RepresentationID$', 'r').replace('$Number$', '3'), representationBase).href)).toBe('https://origin.test/show/e01/r-3.m4s');
  });
});
