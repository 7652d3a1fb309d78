import { describe, expect, it } from 'vitest';
import { assertEpisodeIdentity, identityKey, parseIsoDateTime, type EpisodeIdentity } from '../src/index';

const base: EpisodeIdentity = { site: 'aniworld.to', slug: 'frieren', season: 1, episode: 3, language: 'German Dub' };

describe('identityKey', () => {
  it('identityKey(base) is a JSON array in a fixed order', () => {
    expect(identityKey(base)).toBe('["aniworld.to","frieren",1,3,"German Dub",null]');
  });

  it('does not depend on property order', () => {
    expect(identityKey({ language: 'German Dub', episode: 3, season: 1, slug: 'frieren', site: 'aniworld.to' })).toBe(identityKey(base));
  });

  it('ignores properties that are not identity fields', () => {
    expect(identityKey({ ...base, extra: 'x' } as EpisodeIdentity)).toBe(identityKey(base));
  });

  it.each<[string, EpisodeIdentity, EpisodeIdentity]>([
    ['separator in slug vs language', { ...base, slug: 'a","b', language: 'c' }, { ...base, slug: 'a', language: 'b","c' }],
    ['pipe-joined fields', { ...base, site: 'a|b', slug: 'c' }, { ...base, site: 'a', slug: 'b|c' }],
    ['slash-joined fields', { ...base, site: 'a/b', slug: 'c' }, { ...base, site: 'a', slug: 'b/c' }],
    ['season 11 episode 1 vs season 1 episode 11', { ...base, season: 11, episode: 1 }, { ...base, season: 1, episode: 11 }],
    ['provider "null" vs no provider', { ...base, provider: 'null' }, base],
    ['case of the provider', { ...base, provider: 'VOE' }, { ...base, provider: 'voe' }],
  ])('%s give different keys', (_name, a, b) => {
    expect(identityKey(a)).not.toBe(identityKey(b));
  });

  it.each<[string, unknown, RegExp]>([
    ['null', null, /identity must be an object; received null/],
    ['an empty site', { ...base, site: '' }, /identity.site must be a non-empty string; received ""/],
    ['a negative season', { ...base, season: -1 }, /identity.season must be a non-negative integer; received -1/],
    ['a fractional episode', { ...base, episode: 1.5 }, /identity.episode must be a non-negative integer; received 1.5/],
    ['a numeric language', { ...base, language: 1 }, /identity.language must be a non-empty string; received 1/],
    ['an empty provider', { ...base, provider: '' }, /identity.provider must be absent or a non-empty string/],
  ])('identityKey(%s) throws a TypeError', (_name, identity, message) => {
    expect(() => identityKey(identity as EpisodeIdentity)).toThrow(TypeError);
    expect(() => assertEpisodeIdentity(identity)).toThrow(message);
  });
});

describe('parseIsoDateTime', () => {
  it.each<[string, number | undefined]>([
    ['2025-01-01T12:00:00Z', Date.UTC(2025, 0, 1, 12)],
    ['2025-01-01T12:00:00.5Z', Date.UTC(2025, 0, 1, 12, 0, 0, 500)],
    ['2025-01-01T12:00:00.123456789Z', Date.UTC(2025, 0, 1, 12, 0, 0, 123)],
    ['2025-01-01T13:00:00+01:00', Date.UTC(2025, 0, 1, 12)],
    ['2025-01-01T13:00:00+0100', Date.UTC(2025, 0, 1, 12)],
    ['2025-01-01T07:30:00-04:30', Date.UTC(2025, 0, 1, 12)],
    ['2025-01-01T12:00Z', Date.UTC(2025, 0, 1, 12)],
    ['2025-01-01 12:00:00+00:00', Date.UTC(2025, 0, 1, 12)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2025-01-01T12:00:00', undefined],
    ['2025-02-29T00:00:00Z', undefined],
    ['2025-13-01T00:00:00Z', undefined],
    ['2025-01-01T24:00:00Z', undefined],
    ['2025-01-01', undefined],
    ['1735732800', undefined],
    ['next tuesday', undefined],
  ])('parseIsoDateTime(%j) → %s', (text, expected) => {
    expect(parseIsoDateTime(text)).toBe(expected);
  });
});
