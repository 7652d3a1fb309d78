import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HlsRewriteError, rewritePlaylist, type RewriteOptions } from '../src/index';
import { cut, identity, proxyCallback, throughTransform } from './helpers';

interface GoldenCase {
  file: string;
  section: string;
  source: 'rfc' | 'constructed';
  baseUrl: string;
  /** The output drops or substitutes EXT-X-DEFINE text, so the identity callback does not give the input back. */
  resolvesVariables?: boolean;
  /** The variables of the multivariant playlist the media playlist was loaded from, given directly… */
  imports?: Record<string, string>;
  /** …or taken from what another fixture (a multivariant playlist) carries to its playlist URIs. */
  importsFrom?: string;
  /** The rewrite must fail with HLS_BAD_VARIABLE and a message holding this text (no expected file). */
  error?: string;
}

const fixtures = new URL('../fixtures/', import.meta.url);
const cases = JSON.parse(readFileSync(new URL('cases.json', fixtures), 'utf8')) as GoldenCase[];
const read = (name: string) => readFileSync(new URL(`rfc8216bis/${name}`, fixtures), 'utf8');

/** The variables a multivariant fixture hands to its playlist URIs (what a proxy carries to the child's link). */
function carriedVariables(file: string): Record<string, string> {
  const { baseUrl } = cases.find((c) => c.file === file)!;
  let carried: Record<string, string> = {};
  rewritePlaylist(read(`${file}.m3u8`), {
    baseUrl,
    rewriteUri: (context) => {
      if (context.isMaster && context.kind === 'playlist') carried = Object.fromEntries(context.variables ?? []);
      return context.uri;
    },
  });
  return carried;
}

function optionsOf({ baseUrl, imports, importsFrom }: GoldenCase): Pick<RewriteOptions, 'baseUrl' | 'imports'> {
  const carried = importsFrom === undefined ? imports : carriedVariables(importsFrom);
  return carried === undefined ? { baseUrl } : { baseUrl, imports: carried };
}

describe.each(cases.filter((c) => c.error === undefined))('RFC 8216bis $section: $file', (golden) => {
  const { file, baseUrl } = golden;
  const input = read(`${file}.m3u8`);
  const expected = read(`${file}.expected.m3u8`);
  const options = optionsOf(golden);

  it(`rewritePlaylist(${file}.m3u8, { baseUrl: '${baseUrl}'${golden.importsFrom ? `, imports from ${golden.importsFrom}` : ''} }) equals ${file}.expected.m3u8`, () => {
    expect(rewritePlaylist(input, { ...options, rewriteUri: proxyCallback }).text).toBe(expected);
  });

  it('the Node transform fed 7-byte chunks writes the same bytes', async () => {
    const output = await throughTransform(cut(Buffer.from(input), 7), { ...options, rewriteUri: proxyCallback });
    expect(output.toString('utf8')).toBe(expected);
  });

  // A playlist whose variables are resolved changes under any callback: no identity case for it.
  if (!golden.resolvesVariables) {
    it('the identity callback gives the input back byte for byte', () => {
      expect(rewritePlaylist(input, { ...options, rewriteUri: identity }).text).toBe(input);
    });
  }
});

describe.each(cases.filter((c) => c.error !== undefined))('RFC 8216bis $section: $file is invalid', (golden) => {
  const input = read(`${golden.file}.m3u8`);
  const options = optionsOf(golden);

  it(`rewritePlaylist(${golden.file}.m3u8) fails with HLS_BAD_VARIABLE: …${golden.error}…`, () => {
    let caught: unknown;
    try {
      rewritePlaylist(input, { ...options, rewriteUri: proxyCallback });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HlsRewriteError);
    expect(caught).toMatchObject({ code: 'HLS_BAD_VARIABLE' });
    expect((caught as Error).message).toContain(golden.error);
  });

  it('the Node transform fails the same way', async () => {
    await expect(throughTransform(cut(Buffer.from(input), 7), { ...options, rewriteUri: proxyCallback })).rejects.toMatchObject({ code: 'HLS_BAD_VARIABLE' });
  });
});

it('the multivariant fixture carries its NAME/VALUE and QUERYPARAM variables (decoded from the upstream URL) to its children', () => {
  expect(carriedVariables('4.4.2.3-multivariant')).toEqual({ auth: 'sésame', cdn: 'https://cdn-b.example.com/show' });
});

it('every fixture file is listed in cases.json', () => {
  expect(cases.length).toBeGreaterThanOrEqual(34);
  for (const { file } of cases) expect(read(`${file}.m3u8`).startsWith('#EXTM3U\n')).toBe(true);
  // The folder holds exactly the files cases.json lists: an unlisted fixture would never be run.
  const listed = cases.flatMap(({ file, error }) => (error === undefined ? [`${file}.m3u8`, `${file}.expected.m3u8`] : [`${file}.m3u8`])).sort();
  expect(readdirSync(new URL('rfc8216bis/', fixtures)).sort()).toEqual(listed);
});
