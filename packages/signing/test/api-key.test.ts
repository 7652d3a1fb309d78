import { describe, expect, it } from 'vitest';
import { apiKeyMatches } from '@strm/signing';

describe('apiKeyMatches', () => {
  it.each<[string | undefined | null, string | string[], boolean]>([
    ['k-123', 'k-123', true],
    ['k-123', ['k-123'], true],
    ['k-123', ['new', 'k-123'], true],
    ['k-123', ['k-123', 'old'], true],
    ['k-12', 'k-123', false],
    ['k-1234', 'k-123', false],
    ['K-123', 'k-123', false],
    [' k-123', 'k-123', false],
    ['k-123 ', 'k-123', false],
    ['k-124', ['new', 'old'], false],
    ['', 'k-123', false],
    [undefined, 'k-123', false],
    [null, 'k-123', false],
    ['é', 'é', true],
    ['é', 'e\u0301', false],
    ['a'.repeat(10_000), 'a'.repeat(10_000), true],
    ['a'.repeat(10_000), `${'a'.repeat(9_999)}b`, false],
  ])('apiKeyMatches(%j, %j) is %s', (received, expected, matches) => {
    expect(apiKeyMatches(received, expected)).toBe(matches);
  });

  it.each<[string, string | string[], string]>([
    ['an empty expected key', '', 'expected must be a non-empty string; received an empty string'],
    ['no expected keys', [], 'expected must hold at least one secret; received an empty array'],
    ['an empty key in the list', ['k', ''], 'expected[1] must be a non-empty string; received an empty string'],
  ])('apiKeyMatches("k", %s) throws a TypeError', (_, expected, message) => {
    expect(() => apiKeyMatches('k', expected)).toThrow(TypeError);
    expect(() => apiKeyMatches('k', expected)).toThrow(message);
  });
});
