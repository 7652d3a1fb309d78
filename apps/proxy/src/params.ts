import type { EpisodeIdentity } from '@strm/resolver-client';
import { ProxyError } from './errors';

const DEFAULT_SITE = 'aniworld.to';
// Control characters (C0 and DEL) are what a parameter may not hold.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function single(params: URLSearchParams, names: readonly string[]): string | undefined {
  const values = names.flatMap((name) => params.getAll(name));
  if (values.length === 0) return undefined;
  const distinct = new Set(values);
  if (distinct.size > 1) {
    throw new ProxyError('STRM_BAD_PARAMETER', `the parameter ${names.join('/')} is given more than once with different values`);
  }
  return values[0];
}

function textParam(params: URLSearchParams, names: readonly string[], maxLength: number, required: boolean): string | undefined {
  const value = single(params, names)?.trim();
  if (value === undefined || value === '') {
    if (required) throw new ProxyError('STRM_BAD_PARAMETER', `the parameter ${names[0]} is required`);
    return undefined;
  }
  if (value.length > maxLength || CONTROL.test(value)) {
    throw new ProxyError('STRM_BAD_PARAMETER', `the parameter ${names[0]} must be 1 to ${maxLength} printable characters`);
  }
  return value;
}

function numberParam(params: URLSearchParams, names: readonly string[]): number {
  const value = single(params, names);
  if (value === undefined || value === '') throw new ProxyError('STRM_BAD_PARAMETER', `the parameter ${names[0]} (or ${names[1]}) is required`);
  if (!/^\d{1,6}$/.test(value)) {
    throw new ProxyError('STRM_BAD_PARAMETER', `the parameter ${names[0]} must be a whole number from 0 to 999999, got ${JSON.stringify(value.slice(0, 20))}`);
  }
  return Number(value);
}

/**
 * Reads the episode named by an entry URL (`/strm/stream?site=&slug=&s=&e=&lang=[&provider=]`),
 * with the AniBridge aliases `season`, `episode` and `language`. Bad input throws a 400 that
 * names the parameter.
 *
 * @example
 * parseEpisodeParams(new URLSearchParams('slug=x&s=1&e=2&lang=German+Dub'))
 * // { site: 'aniworld.to', slug: 'x', season: 1, episode: 2, language: 'German Dub' }
 */
export function parseEpisodeParams(params: URLSearchParams): EpisodeIdentity {
  const site = textParam(params, ['site'], 253, false) ?? DEFAULT_SITE;
  if (!/^[a-z0-9.-]+$/i.test(site)) throw new ProxyError('STRM_BAD_PARAMETER', 'the parameter site must be a host name like aniworld.to');
  const slug = textParam(params, ['slug'], 300, true)!;
  const season = numberParam(params, ['s', 'season']);
  const episode = numberParam(params, ['e', 'episode']);
  const language = textParam(params, ['lang', 'language'], 64, true)!;
  const provider = textParam(params, ['provider'], 64, false);
  return { site, slug, season, episode, language, ...(provider !== undefined ? { provider } : {}) };
}
