import { describe, expect, it } from 'vitest';
import { canonicalQuery, quotePlus, signParams, sortParamPairs, toParamPairs, type ParamInput } from '@strm/signing';
import { SIGNING_VECTORS } from './vectors';

describe('the three test vectors of AniBridge-compatible entry URLs (docs/contract.md, Signing)', () => {
  it.each(SIGNING_VECTORS)('canonicalQuery($params) is $canonical', ({ params, canonical }) => {
    expect(canonicalQuery(params)).toBe(canonical);
  });
  it.each(SIGNING_VECTORS)('signParams($params, $secret) is $sig', ({ params, secret, sig }) => {
    expect(signParams(params, secret)).toBe(sig);
  });
  it.each(SIGNING_VECTORS)('signParams of the vector as URLSearchParams, Map and pair array is $sig', ({ params, secret, sig }) => {
    const pairs = Object.entries(params).map(([name, value]) => [name, String(value)] as const);
    expect(signParams(new URLSearchParams(pairs as [string, string][]), secret)).toBe(sig);
    expect(signParams(new Map(pairs), secret)).toBe(sig);
    expect(signParams(pairs, secret)).toBe(sig);
  });
});

describe('quotePlus: Python quote_plus(text, safe="")', () => {
  it.each([
    ['', ''],
    ['AZaz09_.-~', 'AZaz09_.-~'],
    [' ', '+'],
    ['+', '%2B'],
    ['a b+c', 'a+b%2Bc'],
    ['&=?#/%', '%26%3D%3F%23%2F%25'],
    ["!'()*", '%21%27%28%29%2A'],
    ['é', '%C3%A9'],
    ['😀', '%F0%9F%98%80'],
    ['\u0000\u007f', '%00%7F'],
    ['\uFFFD', '%EF%BF%BD'],
  ])('quotePlus(%j) is %j', (text, encoded) => {
    expect(quotePlus(text)).toBe(encoded);
  });
  it('quotePlus("\\uD800") throws a TypeError (a lone surrogate has no UTF-8 form)', () => {
    expect(() => quotePlus('\uD800')).toThrow(TypeError);
  });
});

describe('sortParamPairs: by name, then value, in code point order like Python', () => {
  it.each<[string, [string, string][], [string, string][]]>([
    ['names first', [['s', '1'], ['e', '3']], [['e', '3'], ['s', '1']]],
    ['then values', [['e', '3'], ['e', '10'], ['e', '']], [['e', ''], ['e', '10'], ['e', '3']]],
    ['prefix before longer', [['ab', '1'], ['a', '2']], [['a', '2'], ['ab', '1']]],
    ['uppercase before lowercase', [['a', ''], ['B', '']], [['B', ''], ['a', '']]],
    // UTF-16 code units would put the emoji (0xD83D…) before U+FF01; code points do not.
    ['astral after U+FF01', [['k', '😀'], ['k', '！']], [['k', '！'], ['k', '😀']]],
    ['raw text, not its encoding', [['k', '~'], ['k', 'é']], [['k', '~'], ['k', 'é']]],
  ])('%s: sortParamPairs(%j)', (_, input, sorted) => {
    expect(sortParamPairs(input)).toEqual(sorted);
  });
});

describe('canonicalQuery', () => {
  it.each<[ParamInput, string]>([
    [{}, ''],
    [{ sig: 'ab' }, ''],
    [{ b: '2', a: '1', sig: 'ff' }, 'a=1&b=2'],
    [{ a: undefined, b: 'x' }, 'b=x'],
    [{ n: -5, z: 0 }, 'n=-5&z=0'],
    [{ '': '' }, '='],
    [{ 'a b': 'c+d' }, 'a+b=c%2Bd'],
    [[['k', '2'], ['k', '1'], ['sig', 'x'], ['sig', 'y']], 'k=1&k=2'],
    [new URLSearchParams('lang=German+Dub&slug=a%26b'), 'lang=German+Dub&slug=a%26b'],
  ])('canonicalQuery(%j) is %j', (params, canonical) => {
    expect(canonicalQuery(params)).toBe(canonical);
  });

  it.each<[string, unknown]>([
    ['a float', { e: 1.5 }],
    ['NaN', { e: Number.NaN }],
    ['an unsafe integer', { e: 2 ** 53 }],
    ['null', { e: null }],
    ['a boolean', { e: true }],
    ['a nested object', { e: {} }],
    ['a lone surrogate value', { e: '\uDC00' }],
    ['a lone surrogate name', { '\uD83D': 'x' }],
    ['a pair of three', [['a', 'b', 'c']]],
    ['a pair with a number', [['a', 1]]],
    ['null params', null],
    ['a string', 'a=1'],
  ])('canonicalQuery(%s) throws a TypeError', (_, params) => {
    expect(() => canonicalQuery(params as ParamInput)).toThrow(TypeError);
  });

  it('the TypeError names the parameter and what it received, truncated', () => {
    expect(() => toParamPairs({ episode: 1.5 })).toThrow('parameter "episode" must be a string or a safe integer; received number 1.5');
  });
});
