import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CONFIG_VARIABLE_TABLE } from '../src/config';
import { PROXY_ERRORS } from '../src/errors';

// The variable table of the config module is the source; the operator guide that ships in the
// package and the repository README must list every variable with the same default.
const READMES = {
  'apps/proxy/README.md (shipped in the package)': join(import.meta.dirname, '..', 'README.md'),
  'README.md (repository)': join(import.meta.dirname, '..', '..', '..', 'README.md'),
};

describe.each(Object.entries(READMES))('%s', (_name, path) => {
  const text = readFileSync(path, 'utf8');
  test.each(Object.entries(CONFIG_VARIABLE_TABLE))('lists %s with its default', (name, variable) => {
    const row = text.split('\n').find((line) => line.startsWith('|') && line.includes(`\`${name}\``));
    expect(row, `no table row for ${name}`).toBeDefined();
    const cells = row!.split('|').map((cell) => cell.trim());
    const shown = cells[1] === `\`${name}\`` ? cells[2] : cells[2]!.split('/').map((part) => part.trim())[[...cells[1]!.matchAll(/`(\w+)`/g)].findIndex((match) => match[1] === name)];
    // Variables without a fixed default ("empty", "none", or one per resolver source) only need their row.
    if (variable.default !== '') expect(shown).toBe(`\`${variable.default}\``);
  });
  // Every code a client can receive has a row in the status code table, with its status.
  test.each(Object.entries(PROXY_ERRORS))('lists the error code %s with its status %i', (code, status) => {
    const rows = text.split('\n').filter((line) => line.startsWith('|') && line.includes(`\`${code}\``));
    expect(rows.length, `no table row for ${code}`).toBeGreaterThan(0);
    expect(rows.some((row) => row.split('|')[1]!.includes(String(status)) || row.split('|')[1]!.includes('4xx/5xx'))).toBe(true);
  });
});

describe('CONTRIBUTING.md', () => {
  const root = join(import.meta.dirname, '..', '..', '..');
  const text = readFileSync(join(root, 'CONTRIBUTING.md'), 'utf8');
  const folders = ['packages', 'apps'].flatMap((group) => readdirSync(join(root, group), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `${group}/${entry.name}`));
  test.each(folders)('lists %s in its layout', (folder) => {
    expect(text).toContain(`| \`${folder}\` |`);
  });
});
