import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlaylistRewriteStream, createPlaylistRewriteTransform, HlsRewriteError, PlaylistRewriter, rewritePlaylist } from '../src/index';
import { cut, proxyCallback, throughTransform } from './helpers';

const BASE = 'https://cdn.test/v/index.m3u8';
const encoder = new TextEncoder();

function mediaPlaylist(segments: number): string {
  let text = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n';
  for (let i = 0; i < segments; i++) text += `#EXTINF:6.000,\nsegment-${i}.ts?token=abc\n`;
  return `${text}#EXT-X-ENDLIST\n`;
}

describe('stream output equals string output', () => {
  const input = '\uFEFF#EXTM3U\r\n#EXT-X-KEY:METHOD=AES-128,URI="k,ë.key"\r\n#EXTINF:4,Ünïcode ✓\r\nséq 1.ts\r\n#EXT-X-MAP:URI="init.mp4"\nlast.m4s';
  const expected = rewritePlaylist(input, { baseUrl: BASE, rewriteUri: proxyCallback }).text;
  const bytes = encoder.encode(input);

  it.each([1, 2, 3, 5, 64])('PlaylistRewriter fed %i-byte chunks (cuts inside UTF-8 sequences, CRLF, quotes)', (size) => {
    const rewriter = new PlaylistRewriter({ baseUrl: BASE, rewriteUri: proxyCallback });
    let output = '';
    for (const piece of cut(bytes, size)) output += rewriter.push(piece);
    output += rewriter.end();
    expect(output).toBe(expected);
  });

  it('the Node transform fed 1-byte chunks', async () => {
    expect((await throughTransform(cut(bytes, 1), { baseUrl: BASE, rewriteUri: proxyCallback })).toString('utf8')).toBe(expected);
  });

  it('the Web TransformStream fed 3-byte chunks', async () => {
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const piece of cut(bytes, 3)) controller.enqueue(piece);
        controller.close();
      },
    });
    const rewrite = createPlaylistRewriteStream({ baseUrl: BASE, rewriteUri: proxyCallback });
    expect(await new Response(source.pipeThrough(rewrite)).text()).toBe(expected);
    expect(rewrite.stats.byTag).toEqual({ 'EXT-X-KEY': 1, 'URI-LINE': 2, 'EXT-X-MAP': 1 });
  });

  it('output leaves as soon as each line is complete', () => {
    const rewriter = new PlaylistRewriter({ baseUrl: BASE, rewriteUri: ({ kind }) => `${kind}.bin` });
    expect(rewriter.push(encoder.encode('#EXTM3U\n#EXTINF:4,\nseg'))).toBe('#EXTM3U\n#EXTINF:4,\n');
    expect(rewriter.push(encoder.encode('.ts\r'))).toBe('');
    expect(rewriter.push(encoder.encode('\n'))).toBe('segment.bin\r\n');
    expect(rewriter.end()).toBe('');
  });
});

describe('errors fail the streams with HlsRewriteError', () => {
  it('the Node transform rejects a non-playlist', async () => {
    await expect(throughTransform([encoder.encode('<html>')], { baseUrl: BASE, rewriteUri: proxyCallback })).rejects.toMatchObject({
      code: 'HLS_NOT_A_PLAYLIST',
    });
  });

  it('the Web stream rejects bytes that end inside a UTF-8 sequence', async () => {
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(Uint8Array.of(0x23, 0x45, 0x58, 0x54, 0x4d, 0x33, 0x55, 0x0a, 0xe2, 0x9c));
        controller.close();
      },
    });
    const error = await new Response(source.pipeThrough(createPlaylistRewriteStream({ baseUrl: BASE, rewriteUri: proxyCallback })))
      .text()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HlsRewriteError);
    expect(error).toMatchObject({ code: 'HLS_TRUNCATED' });
  });
});

describe('memory is bounded by the longest line', () => {
  it('a 100,000-segment playlist in 64 KiB chunks: each push returns about one chunk of output', () => {
    const bytes = encoder.encode(mediaPlaylist(100_000));
    const rewriter = new PlaylistRewriter({ baseUrl: BASE, rewriteUri: ({ uri }) => `p/${uri}` });
    let largest = 0;
    let total = 0;
    for (const piece of cut(bytes, 65_536)) {
      const output = rewriter.push(piece);
      largest = Math.max(largest, output.length);
      total += output.length;
    }
    total += rewriter.end().length;
    expect(rewriter.stats.uris).toBe(100_000);
    expect(total).toBe(bytes.length + 2 * 100_000);
    // Output per push is the chunk's complete lines (+2 characters per URI), never the accumulated input.
    expect(largest).toBeLessThan(65_536 + 2 * 4_000);
  });
});

describe('over real HTTP: chunked body, redirect, base URL after redirects', () => {
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/start') {
        response.writeHead(302, { location: '/media/v2/index.txt' }).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain' });
      const body = encoder.encode('#EXTM3U\r\n#EXT-X-MAP:URI="init.mp4"\r\n#EXTINF:4,\r\n../v2/seg-1.jpg\r\n#EXT-X-ENDLIST\r\n');
      // Three bytes per write, so chunk borders fall inside CRLF and quoted attributes.
      for (const piece of cut(body, 3)) response.write(piece);
      response.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fetch(/start) → 302 → the playlist; URIs resolve against the final URL', async () => {
    const upstream = await fetch(`${origin}/start`);
    const rewrite = createPlaylistRewriteStream({ baseUrl: upstream.url, rewriteUri: ({ kind, url }) => `/proxy/${kind}${url!.pathname}` });
    const text = await new Response(upstream.body!.pipeThrough(rewrite)).text();
    expect(text).toBe('#EXTM3U\r\n#EXT-X-MAP:URI="/proxy/map/media/v2/init.mp4"\r\n#EXTINF:4,\r\n/proxy/segment/media/v2/seg-1.jpg\r\n#EXT-X-ENDLIST\r\n');
  });

  it('the Node transform over an http.IncomingMessage gives the same bytes', async () => {
    const { request } = await import('node:http');
    const text = await new Promise<string>((resolve, reject) => {
      request(`${origin}/media/v2/index.txt`, (response) => {
        const rewrite = createPlaylistRewriteTransform({ baseUrl: `${origin}/media/v2/index.txt`, rewriteUri: ({ kind, url }) => `/proxy/${kind}${url!.pathname}` });
        const parts: Buffer[] = [];
        response.pipe(rewrite).on('data', (part: Buffer) => parts.push(part)).on('end', () => resolve(Buffer.concat(parts).toString('utf8'))).on('error', reject);
      })
        .on('error', reject)
        .end();
    });
    expect(text).toContain('#EXTINF:4,\r\n/proxy/segment/media/v2/seg-1.jpg\r\n');
  });
});
