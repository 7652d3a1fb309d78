import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mediaFixtures } from '../src/fixtures';
import { cdnRequestsOf, episode, startStack, type Stack } from './support/stack';
import { probe, redact } from './support/tools';

// What a media server shows (streams, duration) comes from ffprobe: through the proxy it must be
// what the CDN's file says directly.
const catalog = mediaFixtures.map((fixture, index) => episode('probe', index + 1, fixture.path));
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ catalog });
});
afterAll(async () => {
  await stack?.close();
});

describe('ffprobe through the proxy reports what it reports directly', () => {
  test.each(mediaFixtures.map((fixture, index) => [fixture.name, fixture, catalog[index]!] as const))('ffprobe %s', async (name, fixture, entry) => {
    const directUrl = stack.cdn.issue(fixture.path);
    const proxiedUrl = stack.entryUrl(entry);
    const [direct, proxied] = await Promise.all([probe(directUrl), probe(proxiedUrl)]);
    console.log(
      `probe ${name} (${direct.run.ms} ms direct, ${proxied.run.ms} ms proxied): direct ${redact(directUrl)} vs proxied ${redact(proxiedUrl)}\n` +
        `  direct : ${direct.formatName}, ${direct.duration} s, ${direct.streams.join(' | ')}\n` +
        `  proxied: ${proxied.formatName}, ${proxied.duration} s, ${proxied.streams.join(' | ')}`,
    );
    expect(proxied.streams, `${name}: streams of ${redact(proxiedUrl)}`).toEqual(direct.streams);
    expect(proxied.duration, `${name}: duration of ${redact(proxiedUrl)}`).toBe(direct.duration);
    expect(proxied.formatName, `${name}: container of ${redact(proxiedUrl)}`).toBe(direct.formatName);
    expect(Number(direct.duration)).toBeCloseTo(fixture.seconds, 0);
    // The fixture's description of its streams holds too (order aside: ffprobe lists HLS audio first).
    expect(direct.streams.map((line) => line.split(' ')[1]).sort()).toEqual([...fixture.streams].sort());
    // Every byte the proxy fetched was fetched from the CDN successfully, under a resolved URL.
    const upstream = cdnRequestsOf(stack, entry);
    expect(upstream.length, `${name}: the proxy fetched nothing from the CDN`).toBeGreaterThan(0);
    expect(upstream.filter((request) => request.status >= 400).map((request) => `${request.status} ${request.resource}`)).toEqual([]);
  });
});
