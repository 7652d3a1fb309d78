// The proxy's list of variables (CONFIG_VARIABLES, which every deploy test checks names against)
// and the README's configuration table must name the same variables.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { configVariables, readText, repoRoot } from './support';

it("the README's configuration table lists exactly the variables the proxy reads", () => {
  const readme = readText(join(repoRoot, 'README.md'));
  const table = /### Configuration\n[\s\S]*?\n(\|[\s\S]*?)\n\n/.exec(readme)?.[1] ?? '';
  const documented = [...table.matchAll(/^\| `([A-Z_]+)`(?: \/ `([A-Z_]+)`)?/gm)].flatMap((row) => row.slice(1).filter(Boolean));
  expect(documented.sort()).toEqual([...configVariables].sort());
});
