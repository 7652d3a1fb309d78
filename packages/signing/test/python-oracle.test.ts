// Property tests against a real oracle: Python's own urllib.parse.urlencode(sorted(pairs)) (with
// its default quote_via=quote_plus, which is what AniBridge signs) and hmac, run once per property
// with every generated case in one JSON batch.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalQuery, signParams, signedEntryUrl, verifyParams } from '@strm/signing';

type Case = { secret: string; pairs: [string, string][] };

const PYTHON = `
import hashlib, hmac, json, sys
from urllib.parse import urlencode
out = []
for case in json.load(sys.stdin):
    canonical = urlencode(sorted((k, v) for k, v in case["pairs"] if k != "sig"))
    out.append([canonical, hmac.new(case["secret"].encode(), canonical.encode(), hashlib.sha256).hexdigest()])
json.dump(out, sys.stdout)
`;

function python(cases: Case[]): [string, string][] {
  return JSON.parse(execFileSync('python3', ['-c', PYTHON], { input: JSON.stringify(cases), encoding: 'utf8' }));
}

// The characters the spec singles out, the code point order traps (U+FF01 against astral), and
// then anything Unicode at all (`binary` never yields a lone surrogate).
const special = fc.constantFrom('+', '&', '=', '~', '*', ' ', '%', '/', '?', '#', '!', "'", '(', ')', 'é', '😀', '！', '\uFFFD', '\u0000', '\n', 'sig');
const text = fc.string({ unit: fc.oneof(special, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 12 });
const pairs = fc.array(fc.tuple(fc.oneof(text, fc.constantFrom('s', 'e', 'slug', 'lang')), text), { maxLength: 8 });
const secret = fc.string({ unit: 'binary', minLength: 1, maxLength: 20 });
const RUNS = 400;

describe('canonical form against Python urlencode(sorted(...), quote_via=quote_plus)', () => {
  it(`canonicalQuery(pairs) and signParams(pairs, secret) equal Python's for ${RUNS} arbitrary cases`, () => {
    const cases = fc.sample(fc.record({ secret, pairs }), { numRuns: RUNS, seed: 4 });
    const expected = python(cases);
    const actual = cases.map(({ secret, pairs }) => [canonicalQuery(pairs), signParams(pairs, secret)]);
    expect(actual).toEqual(expected);
    // The generator does reach the interesting characters, or this test would prove little.
    const all = cases.flatMap((c) => c.pairs.flat()).join('');
    for (const c of ['+', '&', '=', '~', '*', ' ', '😀', '！']) expect(all).toContain(c);
  });

  it('the same holds for fresh random cases (fc.assert batches them through Python too)', () => {
    const seen: Case[] = [];
    fc.assert(fc.property(fc.record({ secret, pairs }), (c) => void seen.push(c)), { numRuns: RUNS });
    const expected = python(seen);
    seen.forEach(({ secret, pairs }, i) => {
      expect([canonicalQuery(pairs), signParams(pairs, secret)], JSON.stringify(pairs)).toEqual(expected[i]);
    });
  });
});

describe('sign → verify', () => {
  it('verifyParams accepts every signParams result, as pairs and after a trip through a URL', () => {
    fc.assert(
      fc.property(pairs, secret, (input, key) => {
        const params = input.filter(([name]) => name !== 'sig' && name !== 'exp');
        const sig = signParams(params, key);
        expect(verifyParams([...params, ['sig', sig]], key)).toEqual({ ok: true });
        const record = Object.fromEntries(params);
        const url = signedEntryUrl('http://nas:8080/strm/stream', record, key);
        expect(verifyParams(new URL(url).searchParams, [key])).toEqual({ ok: true });
      }),
      { numRuns: RUNS },
    );
  });
  it('verifyParams refuses the signature of one secret under any other secret', () => {
    fc.assert(
      fc.property(pairs, secret, secret, (input, a, b) => {
        fc.pre(a !== b);
        const params = input.filter(([name]) => name !== 'sig' && name !== 'exp');
        expect(verifyParams([...params, ['sig', signParams(params, a)]], b)).toEqual({ ok: false, reason: 'mismatch' });
      }),
      { numRuns: RUNS },
    );
  });
});
