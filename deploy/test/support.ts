import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_VARIABLES } from '@strm/proxy';

/** The deploy folder and the repository root. */
export const deployDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = join(deployDir, '..');

export const configVariables: readonly string[] = CONFIG_VARIABLES;

export const readText = (path: string): string => readFileSync(path, 'utf8');

/** `KEY=value` lines of a dotenv or systemd EnvironmentFile (comments and blanks left out). */
export function envFileEntries(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) entries.set(match[1]!, match[2]!);
  }
  return entries;
}

/** A required variable that the environment lacks, as compose reports it for `${NAME:?message}`. */
export class MissingVariableError extends Error {}

/**
 * Compose's interpolation of `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?message}`
 * and `$$`, applied to every string of a parsed compose file (the compose specification,
 * "Interpolation"). Used when no compose binary is installed to do it.
 */
export function interpolate(value: unknown, env: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (whole, name: string | undefined, operator: string | undefined, argument: string | undefined) => {
      if (whole === '$$') return '$';
      const current = env.get(name!);
      const empty = current === undefined || (operator?.startsWith(':') === true && current === '');
      if (operator === ':-' || operator === '-') return empty ? argument! : current!;
      if (operator === ':?' || operator === '?') {
        if (empty) throw new MissingVariableError(`${name}: ${argument}`);
        return current!;
      }
      return current ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, env)]));
  }
  return value;
}
