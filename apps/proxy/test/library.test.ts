import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { verifyParams } from '@strm/signing';
import { libraryPath, sanitizeName, showNameFromSlug } from '../src/library';
import { runCli } from './support/cli';

const SECRET = 'library-secret-0123456789abcdef0123';
const work = mkdtempSync(join(tmpdir(), 'strm-library-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function library(args: string[], env: Record<string, string> = { STRM_PROXY_SECRET: SECRET }) {
  return runCli(['library', ...args], env, work);
}

/** Every file under `dir` (relative paths, sorted) with its content. */
function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else files[relative(dir, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(dir);
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
}

describe('sanitizeName: names every filesystem takes', () => {
  test.each([
    ['Re:Zero / Starting Life?', 'Re-Zero - Starting Life'],
    ['What?! <Again> "quoted" *star*', 'What! Again quoted star'],
    ['Trailing dots...', 'Trailing dots'],
    ['  spaced  out  ', 'spaced out'],
    ['back\\slash|pipe', 'back - slash - pipe'],
    ['tab\tand\u0001control\n', 'tab andcontrol'],
    ['...', '_'],
    ['CON', 'CON_'],
    ['nul.txt', 'nul.txt_'],
    ['Café', 'Café'],
  ])('sanitizeName(%j) is %j', (input, expected) => {
    const clean = sanitizeName(input);
    expect(clean).toBe(expected);
    expect(clean).not.toMatch(/[/\\:*?"<>|]|[. ]$/);
  });

  test('a very long name is cut to 200 bytes of UTF-8, never inside a character', () => {
    const clean = sanitizeName('ä'.repeat(300));
    expect(Buffer.byteLength(clean)).toBeLessThanOrEqual(200);
    expect(clean).toBe('ä'.repeat(100));
  });

  test.each([
    [{ show: 'Frieren', season: 1, episode: 3 }, 'Frieren/Season 01/Frieren S01E03.strm'],
    [{ show: 'Frieren', season: 0, episode: 1 }, 'Frieren/Season 00/Frieren S00E01.strm'],
    [{ show: 'One Piece', season: 1, episode: 1071 }, 'One Piece/Season 01/One Piece S01E1071.strm'],
    [{ show: 'Re:Zero', season: 2, episode: 12 }, 'Re-Zero/Season 02/Re-Zero S02E12.strm'],
  ])('libraryPath(%j) is %j', (fields, expected) => {
    expect(libraryPath({ site: 'aniworld.to', slug: 'x', language: 'German Dub', ...fields })).toBe(expected);
  });

  test('showNameFromSlug', () => {
    expect(showNameFromSlug('frieren-beyond-journeys-end')).toBe('Frieren Beyond Journeys End');
  });
});

describe('strm-proxy library', { timeout: 60_000 }, () => {
  const csv = join(work, 'episodes.csv');
  writeFileSync(csv, [
    'slug,season,episode,language,show',
    'frieren,1,1,German Dub,Frieren',
    'frieren,1,2,German Dub,Frieren',
    'frieren,0,1,German Dub,Frieren',
    're-zero,1,1,German Sub,"Re:Zero, Starting Life"',
    're-zero,1,1,English Sub,"Re:Zero, Starting Life"',
    '',
  ].join('\n'));

  test('writes the tree in Jellyfin naming, each file one signed URL of the episode', async () => {
    const out = join(work, 'lib-csv');
    const result = await library(['--from', 'episodes.csv', '--out', 'lib-csv', '--base-url', 'http://nas:8080']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`library: 5 created, 0 updated, 0 unchanged in ${out}`);
    const files = tree(out);
    expect(Object.keys(files)).toEqual([
      '.strm-library.json',
      'Frieren/Season 00/Frieren S00E01.strm',
      'Frieren/Season 01/Frieren S01E01.strm',
      'Frieren/Season 01/Frieren S01E02.strm',
      'Re-Zero, Starting Life/Season 01/Re-Zero, Starting Life S01E01 - English Sub.strm',
      'Re-Zero, Starting Life/Season 01/Re-Zero, Starting Life S01E01 - German Sub.strm',
    ]);
    const url = new URL(files['Frieren/Season 00/Frieren S00E01.strm']!.trim());
    expect(url.origin + url.pathname).toBe('http://nas:8080/strm/stream');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ site: 'aniworld.to', slug: 'frieren', s: '0', e: '1', lang: 'German Dub' });
    expect(verifyParams(url.searchParams, SECRET)).toEqual({ ok: true });
    expect(new URL(files['Re-Zero, Starting Life/Season 01/Re-Zero, Starting Life S01E01 - English Sub.strm']!.trim()).searchParams.get('lang')).toBe('English Sub');
  });

  test('a second run changes nothing and says so', async () => {
    const out = join(work, 'lib-csv');
    const before = statSync(join(out, 'Frieren/Season 01/Frieren S01E01.strm')).mtimeMs;
    const result = await library(['--from', csv, '--out', out, '--base-url', 'http://nas:8080']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`library: nothing to do, all 5 .strm files in ${out} are up to date\n`);
    expect(statSync(join(out, 'Frieren/Season 01/Frieren S01E01.strm')).mtimeMs).toBe(before);
  });

  test('files it wrote are updated (a new base URL); a file it did not write is left alone unless --force', async () => {
    const out = join(work, 'lib-csv');
    const mine = join(out, 'Frieren/Season 01/Frieren S01E02.strm');
    writeFileSync(mine, 'http://my-own-server/frieren-2\n'); // edited by hand: no longer this command's
    const moved = await library(['--from', csv, '--out', out, '--base-url', 'https://media.example/strm']);
    expect(moved.status).toBe(1);
    expect(moved.stderr).toContain('1 file(s)');
    expect(moved.stderr).toContain('Frieren/Season 01/Frieren S01E02.strm');
    expect(moved.stderr).toContain('nothing was written');
    expect(readFileSync(mine, 'utf8')).toBe('http://my-own-server/frieren-2\n');
    expect(readFileSync(join(out, 'Frieren/Season 01/Frieren S01E01.strm'), 'utf8')).toContain('http://nas:8080/');

    const forced = await library(['--from', csv, '--out', out, '--base-url', 'https://media.example/strm', '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('overwrote  Frieren/Season 01/Frieren S01E02.strm');
    expect(forced.stdout).toContain('updated  Frieren/Season 01/Frieren S01E01.strm');
    expect(forced.stdout).toContain('library: 0 created, 5 updated, 0 unchanged');
    for (const content of Object.values(tree(out)).filter((text) => text.startsWith('http'))) expect(content).toMatch(/^https:\/\/media\.example\/strm\/strm\/stream\?/);
  });

  test('--dry-run prints the plan and writes nothing', async () => {
    const out = join(work, 'lib-dry');
    const result = await library(['--from', csv, '--out', out, '--base-url', 'http://nas:8080', '--dry-run']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('would create  Frieren/Season 00/Frieren S00E01.strm');
    expect(result.stdout).toContain('library (dry run, nothing written): 5 to create, 0 to update, 0 unchanged');
    expect(() => statSync(out)).toThrow();
  });

  test('reads a static resolver file and a JSON list', async () => {
    const resolverFile = join(work, 'resolver.json');
    writeFileSync(resolverFile, JSON.stringify({ entries: [
      { site: 's.to', slug: '9-1-1', season: 1, episode: 2, language: 'German Dub', provider: 'VOE', url: 'https://cdn.example/a.m3u8?token=x' },
    ] }));
    const fromResolver = await library(['--from', resolverFile, '--out', 'lib-resolver', '--base-url', 'http://nas:8080']);
    expect(fromResolver.status, fromResolver.stderr).toBe(0);
    const files = tree(join(work, 'lib-resolver'));
    const url = new URL(files['9 1 1/Season 01/9 1 1 S01E02.strm']!.trim());
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ site: 's.to', slug: '9-1-1', provider: 'VOE' });
    expect(JSON.stringify(files)).not.toContain('cdn.example');

    const list = join(work, 'list.json');
    writeFileSync(list, JSON.stringify([{ slug: 'frieren', s: 1, e: 3, lang: 'German Dub', title: 'Frieren: Beyond Journey’s End' }]));
    const fromList = await library(['--from', list, '--out', 'lib-list', '--base-url', 'http://nas:8080']);
    expect(fromList.status, fromList.stderr).toBe(0);
    expect(Object.keys(tree(join(work, 'lib-list')))).toContain('Frieren-Beyond Journey’s End/Season 01/Frieren-Beyond Journey’s End S01E03.strm');
  });

  test.each([
    ['broken.json', '[\n  {"slug": "x" "season": 1}\n]', /--from .*broken\.json is not valid JSON: expected ',' or '}' at line 2, column 16/],
    ['missing.csv', 'slug,season,episode,language\nfrieren,1,,German Dub\n', /--from .*missing\.csv line 2: episode is missing/],
    ['negative.json', '[{"slug": "x", "season": -1, "episode": 1, "language": "D"}]', /negative\.json entry 0: season must be a whole number/],
  ])('a bad list (%s) is one clear error', async (name, content, message) => {
    writeFileSync(join(work, name), content);
    const result = await library(['--from', name, '--out', 'lib-bad', '--base-url', 'http://nas:8080']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('options are checked and named', async () => {
    expect((await library(['--from', csv])).stderr).toContain('library needs --out, --base-url');
    expect((await library(['--from', csv, '--out', 'x', '--base-url', 'nas:8080'])).stderr).toContain('library: --base-url must be an http(s) URL');
    expect((await library(['--from', csv, '--out', 'x', '--base-url', 'http://nas:8080'], {})).stderr).toContain('STRM_PROXY_SECRET must be set');
  });
});
