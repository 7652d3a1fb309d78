import { describe, expect, test } from 'vitest';
import { headOfWholeFromProbe, isWholeResource, planMediaAnswer, planResumedBody, refusedUpstreamStatus, type ClientAsk, type UpstreamHead } from '../src/range-answer';

// The range answer, table by table: each test's name renders the call it makes.
const show = (value: unknown) => JSON.stringify(value).replaceAll('"', "'");
const SIZE = '1000';
const head = (status: number, headers: Record<string, string> = {}): UpstreamHead => ({ status, headers });
const whole = head(200, { 'content-length': SIZE, etag: '"v1"', 'content-type': 'video/mp4' });

type Sent = { status: number; skip: number; first: number; last: number | undefined; bodyless: boolean; headers?: Record<string, string> };

const sends: Array<[ClientAsk, UpstreamHead, Sent]> = [
  [{ method: 'GET' }, whole, { status: 200, skip: 0, first: 0, last: 999, bodyless: false, headers: { 'content-type': 'video/mp4', 'content-length': SIZE, etag: '"v1"', 'accept-ranges': 'bytes' } }],
  [{ method: 'HEAD' }, whole, { status: 200, skip: 0, first: 0, last: 999, bodyless: true }],
  [{ method: 'GET', range: 'bytes=0-99' }, whole, { status: 206, skip: 0, first: 0, last: 99, bodyless: false, headers: { 'content-type': 'video/mp4', 'content-length': '100', etag: '"v1"', 'content-range': 'bytes 0-99/1000', 'accept-ranges': 'bytes' } }],
  [{ method: 'GET', range: 'bytes=500-' }, whole, { status: 206, skip: 500, first: 500, last: 999, bodyless: false }],
  [{ method: 'GET', range: 'bytes=-300' }, whole, { status: 206, skip: 700, first: 700, last: 999, bodyless: false }],
  [{ method: 'HEAD', range: 'bytes=0-9' }, whole, { status: 206, skip: 0, first: 0, last: 9, bodyless: true }],
  [{ method: 'GET', range: 'bytes=0-9', ifRange: '"old"' }, whole, { status: 200, skip: 0, first: 0, last: 999, bodyless: false }],
  [{ method: 'GET', range: 'bytes=0-9', ifRange: '"v1"' }, whole, { status: 206, skip: 0, first: 0, last: 9, bodyless: false }],
  [{ method: 'GET', range: 'bytes=100-199' }, head(206, { 'content-range': 'bytes 100-199/1000', 'content-length': '100' }), { status: 206, skip: 0, first: 100, last: 199, bodyless: false, headers: { 'content-length': '100', 'content-range': 'bytes 100-199/1000', 'accept-ranges': 'bytes' } }],
  [{ method: 'GET', range: 'bytes=0-' }, head(206, { 'content-range': 'bytes 0-499/1000' }), { status: 206, skip: 0, first: 0, last: 499, bodyless: false }],
  [{ method: 'GET', range: 'bytes=0-9' }, head(200, {}), { status: 200, skip: 0, first: 0, last: undefined, bodyless: false }],
  [{ method: 'GET' }, head(304, { etag: '"v1"' }), { status: 304, skip: 0, first: 0, last: undefined, bodyless: true, headers: { etag: '"v1"' } }],
  [{ method: 'GET' }, head(204), { status: 204, skip: 0, first: 0, last: undefined, bodyless: true, headers: {} }],
  [{ method: 'GET' }, head(200, { 'set-cookie': 'a=b', server: 'cdn', 'content-length': '5' }), { status: 200, skip: 0, first: 0, last: 4, bodyless: false, headers: { 'content-length': '5', 'accept-ranges': 'bytes' } }],
];

describe('planMediaAnswer: what the client gets', () => {
  test.each(sends.map(([ask, upstream, sent]) => [`planMediaAnswer(${show(ask)}, ${show(upstream)}) sends ${show(sent)}`, ask, upstream, sent] as const))('%s', (_name, ask, upstream, sent) => {
    const plan = planMediaAnswer(ask, upstream);
    expect(plan.kind).toBe('send');
    if (plan.kind !== 'send') return;
    const { headers, ...rest } = sent;
    expect({ status: plan.status, skip: plan.skip, first: plan.first, last: plan.last, bodyless: plan.bodyless }).toEqual(rest);
    if (headers !== undefined) expect(plan.headers).toEqual(headers);
  });
});

const refusals: Array<[ClientAsk, UpstreamHead, string, number, Record<string, string>]> = [
  [{ method: 'GET', range: 'bytes=1000-' }, whole, 'STRM_RANGE_NOT_SATISFIABLE', 416, { 'content-range': 'bytes */1000' }],
  [{ method: 'GET', range: 'bytes=5000-' }, head(416, { 'content-range': 'bytes */1000' }), 'STRM_RANGE_NOT_SATISFIABLE', 416, { 'content-range': 'bytes */1000' }],
  [{ method: 'GET', range: 'bytes=50-59' }, head(206, { 'content-range': 'bytes 0-9/1000', 'content-length': '10' }), 'STRM_UPSTREAM_BAD_RANGE', 502, {}],
  [{ method: 'GET', range: 'bytes=0-9' }, head(206, {}), 'STRM_UPSTREAM_BAD_RANGE', 502, {}],
  [{ method: 'GET' }, head(206, { 'content-range': 'bytes 0-9/1000' }), 'STRM_UPSTREAM_BAD_RANGE', 502, {}],
  [{ method: 'GET' }, head(416, { 'content-range': 'bytes */1000' }), 'STRM_UPSTREAM_BAD_RANGE', 502, {}],
  [{ method: 'HEAD' }, head(416, {}), 'STRM_UPSTREAM_BAD_RANGE', 502, {}],
];

describe('planMediaAnswer: what the client is refused', () => {
  test.each(refusals.map(([ask, upstream, code, status, headers]) => [`planMediaAnswer(${show(ask)}, ${show(upstream)}) refuses ${code} ${status}`, ask, upstream, code, status, headers] as const))(
    '%s',
    (_name, ask, upstream, code, status, headers) => {
      const plan = planMediaAnswer(ask, upstream);
      expect(plan.kind).toBe('refuse');
      if (plan.kind !== 'refuse') return;
      expect(plan.error.code).toBe(code);
      expect(plan.error.status).toBe(status);
      expect(plan.error.headers).toEqual(headers);
    },
  );
});

describe('refusedUpstreamStatus: statuses the proxy does not pass on', () => {
  test.each([
    [200, undefined], [206, undefined], [204, undefined], [304, undefined], [416, undefined],
    [403, 403], [404, 404], [410, 410], [500, 500], [503, 503], [301, 502], [302, 502], [101, 502],
  ])('refusedUpstreamStatus(%i)?.status is %s', (status, answered) => {
    expect(refusedUpstreamStatus(status)?.status).toBe(answered);
    if (answered !== undefined) expect(refusedUpstreamStatus(status)?.code).toBe('STRM_UPSTREAM_FAILED');
  });
});

describe('planResumedBody: the rest of the same representation, or nothing', () => {
  const ask = { range: 'bytes=300-999', ifRange: '"v1"' };
  test.each([
    [ask, head(206, { 'content-range': 'bytes 300-999/1000', 'content-length': '700' }), { skip: 0 }],
    [ask, head(200, { 'content-length': SIZE, etag: '"v1"' }), { skip: 300 }],
    [ask, head(200, { 'content-length': SIZE, etag: '"v2"' }), undefined],
    [ask, head(206, { 'content-range': 'bytes 0-699/1000' }), undefined],
    [{ range: 'bytes=300-' }, head(200, {}), undefined],
    [ask, head(503), undefined],
  ])('planResumedBody(%j, %j) is %j', (resumeAsk, upstream, expected) => {
    expect(planResumedBody(resumeAsk, upstream)).toEqual(expected);
  });
});

describe('headOfWholeFromProbe: a one-byte GET stands in for a refused HEAD', () => {
  test.each([
    [head(206, { 'content-range': 'bytes 0-0/1234', 'content-length': '1', 'content-type': 'video/mp4' }), head(200, { 'content-length': '1234', 'content-type': 'video/mp4', 'accept-ranges': 'bytes' })],
    [head(206, { 'content-range': 'bytes 0-0/*', 'content-length': '1' }), head(200, { 'accept-ranges': 'bytes' })],
    [head(200, { 'content-length': '1234' }), head(200, { 'content-length': '1234' })],
    [head(404), head(404)],
  ])('headOfWholeFromProbe(%j) is %j', (probe, expected) => {
    expect(headOfWholeFromProbe(probe)).toEqual(expected);
  });
});

describe('isWholeResource: only a whole answer can be rewritten as a playlist', () => {
  test.each([
    [head(200), true],
    [head(304), true],
    [head(206, { 'content-range': 'bytes 0-999/1000' }), true],
    [head(206, { 'content-range': 'bytes 0-499/1000' }), false],
    [head(206, { 'content-range': 'bytes 0-999/*' }), false],
    [head(206, {}), false],
  ])('isWholeResource(%j) is %s', (upstream, expected) => {
    expect(isWholeResource(upstream)).toBe(expected);
  });
});
