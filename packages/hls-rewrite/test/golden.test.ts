import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rewritePlaylist } from '../src/index';
import { cut, identity, proxyCallback, throughTransform } from './helpers';

interface GoldenCase {
  file: string;
  section: string;
  source: 'rfc' | 'constructed';
  baseUrl: string;
}

const fixtures = new URL('../fixtures/', import.meta.url);
const cases = JSON.parse(readFileSync(new URL('cases.json', fixtures), 'utf8')) as GoldenCase[];
const read = (name: string) => readFileSync(new URL(`rfc8216bis/${name}`, fixtures), 'utf8');

describe.each(cases)('RFC 8216bis $section: $file', ({ file, baseUrl }) => {
  const input = read(`${file}.m3u8`);
  const expected = read(`${file}.expected.m3u8`);

  it(`rewritePlaylist(${file}.m3u8, { baseUrl: '${baseUrl}' }) equals ${file}.expected.m3u8`, () => {
    expect(rewritePlaylist(input, { baseUrl, rewriteUri: proxyCallback }).text).toBe(expected);
  });

  it('the Node transform fed 7-byte chunks writes the same bytes', async () => {
    const output = await throughTransform(cut(Buffer.from(input), 7), { baseUrl, rewriteUri: proxyCallback });
    expect(output.toString('utf8')).toBe(expected);
  });

  it('the identity callback gives the input back byte for byte', () => {
    expect(rewritePlaylist(input, { baseUrl, rewriteUri: identity }).text).toBe(input);
  });
});

it('every fixture file is listed in cases.json', () => {
  expect(cases.length).toBeGreaterThanOrEqual(18);
  for (const { file } of cases) expect(read(`${file}.m3u8`).startsWith('#EXTM3U\n')).toBe(true);
  // The folder holds exactly the pairs cases.json lists: an unlisted fixture would never be run.
  const listed = cases.flatMap(({ file }) => [`${file}.m3u8`, `${file}.expected.m3u8`]).sort();
  expect(readdirSync(new URL('rfc8216bis/', fixtures)).sort()).toEqual(listed);
});
