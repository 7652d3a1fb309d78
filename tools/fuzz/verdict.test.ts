import { describe, expect, test } from 'vitest';
import type { RawAnswer } from './raw-http';
import { judgeAnswer, type Problem } from './verdict';

const answer = (status: number | undefined, headers: Record<string, string>, body = '', outcome: RawAnswer['outcome'] = 'answered'): RawAnswer => ({
  outcome, status, headers, body: Buffer.from(body), capped: false, cut: false, ms: 1,
});
const json = { 'content-type': 'application/json; charset=utf-8' };
const UPSTREAM = '127.0.0.1:19001';

// How each answer is judged: the fuzz can only find what this table calls a problem.
const cases: Array<[string, RawAnswer, string, Problem | undefined]> = [
  ['a 200 media body', answer(200, { 'content-type': 'video/mp2t' }, 'x'), 'GET', undefined],
  ['a JSON 404', answer(404, json, '{"error":{"code":"STRM_NOT_FOUND","message":"no such endpoint"}}'), 'GET', undefined],
  ['a JSON 401 to HEAD (no body)', answer(401, json), 'HEAD', undefined],
  ['no answer before the deadline', answer(undefined, {}, '', 'hang'), 'GET', 'hang'],
  ['a close without a status line', answer(undefined, {}, '', 'closed'), 'GET', 'no-answer'],
  ['CONNECT closed without a word', answer(undefined, {}, '', 'closed'), 'CONNECT', 'connect-no-answer'],
  ["Node's empty 400", answer(400, {}), 'GET', 'node-answer'],
  ["Node's empty 417 to an Expect", answer(417, {}), 'GET', 'node-answer'],
  ['an HTML 502', answer(502, { 'content-type': 'text/html' }, '<h1>bad</h1>'), 'GET', 'non-json-error'],
  ['an empty 416 passed on', answer(416, { 'content-range': 'bytes */10' }), 'GET', 'non-json-error'],
  ['JSON without a STRM_ code', answer(500, json, '{"message":"x"}'), 'GET', 'non-json-error'],
  ['truncated JSON', answer(502, json, '{"error":{"code":"STRM_'), 'GET', 'non-json-error'],
  ['a message naming the upstream', answer(502, json, `{"error":{"code":"STRM_UPSTREAM_FAILED","message":"the upstream ${UPSTREAM} could not be reached"}}`), 'GET', 'upstream-detail'],
  ['a 500 STRM_INTERNAL', answer(500, json, '{"error":{"code":"STRM_INTERNAL","message":"the proxy failed unexpectedly"}}'), 'GET', 'internal'],
];

describe('judgeAnswer', () => {
  test.each(cases)('%s → %s', (_name, raw, method, problem) => {
    expect(judgeAnswer(raw, { method }, [UPSTREAM])).toBe(problem);
  });
});
