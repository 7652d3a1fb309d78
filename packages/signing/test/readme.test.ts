// Keeps the README honest: the TypeScript, Python and shell programs that mint a signed .strm URL
// are taken from README.md as written, run for real (tsx, python3, sh + openssl), and must print
// the output shown there, which must also be what signedEntryUrl returns.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { signedEntryUrl, verifyParams } from '@strm/signing';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');

function block(marker: string): string {
  const match = new RegExp(`<!-- mint:${marker} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\`\\n`).exec(readme);
  if (!match) throw new Error(`README.md has no code block after <!-- mint:${marker} -->`);
  return match[1]!;
}

const expected = block('output').trim();

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { cwd: packageDir, encoding: 'utf8' }).trim();
}

describe('README: minting a signed .strm URL', () => {
  it('the output shown is what signedEntryUrl returns, and it verifies', () => {
    const url = signedEntryUrl(
      'http://nas:8080/strm/stream',
      { site: 'aniworld.to', slug: 'rascal-does-not-dream-of-bunny-girl-senpai', s: 1, e: 3, lang: 'German Dub', provider: 'VOE' },
      's3cr3t',
    );
    expect(url).toBe(expected);
    expect(verifyParams(new URL(url).searchParams, 's3cr3t')).toEqual({ ok: true });
  });

  it('the TypeScript block prints it (node --import tsx)', () => {
    // Inside the package folder so that `@strm/signing` resolves to this package's sources.
    const dir = join(packageDir, 'test-results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'readme-mint.ts');
    writeFileSync(file, block('typescript'));
    expect(run(process.execPath, ['--conditions=@strm/source', '--import', 'tsx', file])).toBe(expected);
  });

  it('the Python block prints it (python3, standard library only)', () => {
    expect(run('python3', ['-c', block('python')])).toBe(expected);
  });

  it('the shell one-liner prints it (sh + openssl)', () => {
    expect(run('sh', ['-c', block('shell')])).toBe(expected);
  });
});
