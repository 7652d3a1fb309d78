import { ProxyError } from './errors';

/**
 * The path form of a sealed prefix: `/strm/proxy/<token>/<rest…>`, where the token seals an
 * upstream directory (`https://cdn.example/show/e01/`) and `<rest…>` is what a DASH player appends
 * to it after expanding a segment template (`720p/seg-00042.m4s`). The rest is resolved against
 * the sealed directory and must stay under it: same origin, same path prefix.
 */
export interface SealedPathRequest {
  token: string;
  /** The raw path after `<token>/`, percent-encodings as sent. */
  rest: string;
  /** The raw query, with its `?`, or `''`. */
  query: string;
}

/**
 * Splits a `/strm/proxy/<token>/<rest…>` request target; undefined for any other path. The token
 * is base64url (no `%`); the rest keeps its encoding, since the upstream gets it as it is.
 */
export function parseSealedPath(target: string): SealedPathRequest | undefined {
  const prefix = '/strm/proxy/';
  if (!target.startsWith(prefix)) return undefined;
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  const slash = path.indexOf('/', prefix.length);
  if (slash <= prefix.length) return undefined;
  const token = path.slice(prefix.length, slash);
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  return { token, rest: path.slice(slash + 1), query: queryAt === -1 ? '' : target.slice(queryAt) };
}

function refuse(message: string): never {
  throw new ProxyError('STRM_BAD_PROXY_PATH', message);
}

/** Why a rest of a sealed path is refused, or undefined when it is a plain relative path below the prefix. */
export function sealedRestProblem(rest: string): string | undefined {
  if (rest.startsWith('/')) return 'the path after the token starts with "/" (it would leave the sealed directory)';
  if (rest.includes('\\') || /%5c/i.test(rest)) return 'the path after the token holds a backslash';
  if (/%2f/i.test(rest)) return 'the path after the token holds an encoded "/"';
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (/[\u0000-\u0020\u007f#]/.test(rest)) return 'the path after the token holds a space, a control character or "#"';
  for (const segment of rest.split('/')) {
    const plain = segment.replace(/%2e/gi, '.');
    if (plain === '.' || plain === '..') return 'the path after the token holds a "." or ".." segment';
  }
  const firstSegment = rest.split('/', 1)[0]!;
  if (firstSegment.includes(':')) return 'the path after the token starts like an absolute URL';
  return undefined;
}

/**
 * The upstream URL a sealed path stands for: the rest resolved against the sealed directory,
 * with the sealed query when the manifest's URL had one (the client never saw it), then the
 * request's own. Throws `STRM_BAD_PROXY_PATH` (400) for anything that could leave the directory:
 * `..` or `.` segments (also percent-encoded), an encoded `/` or a backslash (either could be
 * read as a separator further on), a leading `/` (a network-path or absolute-path reference),
 * a scheme, control characters; and checks the resolved URL once more.
 */
export function resolveSealedPath(directory: string, rest: string, query: string, sealedQuery: string | undefined): string {
  const problem = sealedRestProblem(rest);
  if (problem !== undefined) refuse(problem);
  const base = new URL(directory);
  // Parameters a player adds (content steering's `_DASH_pathway`, CMCD) follow the sealed ones.
  const fullQuery = sealedQuery === undefined ? query : query === '' ? sealedQuery : `${sealedQuery}&${query.slice(1)}`;
  const resolved = new URL(rest + fullQuery, base);
  if (resolved.origin !== base.origin || !resolved.pathname.startsWith(base.pathname)) refuse('the path after the token leaves the sealed directory');
  return resolved.href;
}
