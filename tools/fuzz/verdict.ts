// What every fuzzed answer must be: an answer (no hang, no silent close), and for 4xx/5xx the
// proxy's JSON error (`{"error": {"code": "STRM_…", "message"}}`) naming nothing of the upstream.
import type { RawAnswer } from './raw-http';

/**
 * What was wrong with an answer. `hang`, `no-answer`, `non-json-error` and `upstream-detail` are
 * failures; the harness may list some as known while their fix is under way (see the README).
 */
export type Problem =
  | 'hang'
  /** The socket closed without a status line. */
  | 'no-answer'
  /** CONNECT closed without a status line. */
  | 'connect-no-answer'
  /** A 4xx/5xx whose body is not the proxy's JSON error. */
  | 'non-json-error'
  /**
   * Node's HTTP server answered by itself, with no body, before the proxy saw the request: its
   * parser (400, 408, 413, 414, 431, 505) or its `Expect` check (417).
   */
  | 'node-answer'
  /** An error message naming the upstream (its host:port). */
  | 'upstream-detail'
  /** A 500 STRM_INTERNAL: something the proxy did not expect. */
  | 'internal';

/** The problem of one answer, or undefined when it is as it must be. */
export function judgeAnswer(answer: RawAnswer, request: { method: string }, upstreamHosts: readonly string[]): Problem | undefined {
  if (answer.outcome === 'hang') return 'hang';
  if (answer.status === undefined) return request.method.toUpperCase() === 'CONNECT' ? 'connect-no-answer' : 'no-answer';
  if (answer.status < 400) return undefined;
  const type = answer.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) {
    const nodeStatus = [400, 408, 413, 414, 417, 431, 505].includes(answer.status);
    return nodeStatus && answer.body.length === 0 && type === '' ? 'node-answer' : 'non-json-error';
  }
  if (request.method.toUpperCase() === 'HEAD') return undefined;
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(answer.body.toString('utf8')) as { error?: { code?: unknown; message?: unknown } }).error;
  } catch {
    return 'non-json-error';
  }
  if (typeof error?.code !== 'string' || !error.code.startsWith('STRM_') || typeof error.message !== 'string') return 'non-json-error';
  if (upstreamHosts.some((host) => (error.message as string).includes(host))) return 'upstream-detail';
  if (error.code === 'STRM_INTERNAL') return 'internal';
  return undefined;
}
