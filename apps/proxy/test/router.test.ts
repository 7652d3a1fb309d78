import { IncomingMessage, ServerResponse } from 'node:http';
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { expressServerClasses } from '../src/router';
import { outputUntilClose } from '../../../tools/testing/child-output';
import { SOURCE_NODE_ARGS } from './support/cli';
import { rawGet, startResolver, startTestProxy, type TestProxy, type TestResolver } from './support/servers';

// One router for every endpoint, Express's: paths match without regard to case, with one
// optional trailing slash, and the token is percent-decoded (a malformed encoding is a 400).
// Each endpoint is told apart by what it answers to an unsigned request.
let resolver: TestResolver;
let proxy: TestProxy;

beforeAll(async () => {
  resolver = await startResolver([]);
  proxy = await startTestProxy(resolver);
});

afterAll(async () => {
  await proxy?.close(0);
  await resolver?.close();
});


/** What an endpoint answers to an unsigned GET: the status and the JSON error code, or the status. */
const STREAM = [401, 'STRM_UNAUTHORIZED'];
const PROXY = [401, 'STRM_TOKEN_INVALID'];
const BAD_REQUEST = [400, 'STRM_BAD_REQUEST'];
const NOT_FOUND = [404, 'STRM_NOT_FOUND'];
const HEALTHZ = [200, 'ok'];
const READYZ = [200, 'ready'];
const METRICS = [200, 'metrics'];

async function endpointOf(target: string): Promise<[number, string]> {
  const { status, body } = await rawGet(proxy.url, target);
  if (body.startsWith('# HELP')) return [status, 'metrics'];
  const json = JSON.parse(body) as { error?: { code: string }; status?: string };
  return [status, json.error?.code ?? json.status ?? ''];
}

describe('the router', () => {
  test.each<[string, (string | number)[]]>([
    ['/strm/stream', STREAM],
    ['/strm/stream?slug=x&s=1', STREAM],
    ['/strm/stream/', STREAM],
    ['/STRM/Stream', STREAM],
    ['/strm/stream//', NOT_FOUND],
    ['/strm/proxy/abc/seg.ts', PROXY],
    ['/strm/proxy/abc/seg.ts/', PROXY],
    ['/STRM/PROXY/abc/seg.ts', PROXY],
    ['/strm/proxy/%61bc/seg.ts', PROXY],
    ['/strm/proxy/%E0%A4%A/seg.ts', BAD_REQUEST],
    ['/strm/proxy/abc/%zz', BAD_REQUEST],
    // Several segments after a token are the sealed DASH form (/strm/proxy/<token>/<rest…>): the token is checked.
    ['/strm/proxy/a/b/c', PROXY],
    ['/strm/proxy//seg.ts', NOT_FOUND],
    ['/strm/proxy/abc', NOT_FOUND],
    // Absolute-form is what a client sends to a forward proxy, which strm is not.
    ['http://proxy.example/strm/stream?x=1', BAD_REQUEST],
    ['/healthz', HEALTHZ],
    ['/readyz/', READYZ],
    ['/Metrics', METRICS],
    ['/', NOT_FOUND],
    ['/nope', NOT_FOUND],
    ['*', NOT_FOUND],
  ])('GET %s → %j', async (target, expected) => {
    expect(await endpointOf(target)).toEqual(expected);
  });
});

describe('the server request classes', () => {
  test('requests and responses are born with the Express application prototypes, so Express reshapes neither per request', () => {
    const app = express();
    const classes = expressServerClasses(app);
    const req = new classes.IncomingMessage(new Socket());
    const res = new classes.ServerResponse(req);
    expect(Object.getPrototypeOf(req)).toBe(app.request);
    expect(Object.getPrototypeOf(res)).toBe(app.response);
    // Still Node's own objects: what Node and the proxy do with them is unchanged.
    expect(req).toBeInstanceOf(IncomingMessage);
    expect(res).toBeInstanceOf(ServerResponse);
    expect(res.req).toBe(req);
  });

  test('a request and its response served through Express keep fast properties (no dictionary for Node to look them up in on every write)', async () => {
    const child = spawn(process.execPath, ['--allow-natives-syntax', ...SOURCE_NODE_ARGS, fileURLToPath(new URL('./support/shape-probe.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'pipe'] });
    const { status, stdout, stderr } = await outputUntilClose(child);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ request: true, response: true });
  });
});
