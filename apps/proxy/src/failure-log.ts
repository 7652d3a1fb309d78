import { ResolverError, type EpisodeIdentity } from '@strm/resolver-client';
import { UpstreamRefusedError } from './address-guard';
import { ProxyError } from './errors';
import { UpstreamFetchError } from './upstream';

/**
 * What the request log line says about a failed request: the proxy's code and message (what the
 * client was told), and the cause behind it in fields an operator can filter on. Nothing here
 * holds a secret, a signature or an upstream query string.
 */
export interface FailureFields {
  code: string;
  /** The underlying failure in words (resolver answer, connection error), URL queries cut off; the message when there is nothing deeper. */
  cause: string;
  /** What the client was told, when it differs from the cause. */
  message?: string;
  resolverCode?: string;
  resolverStatus?: number;
  upstreamHost?: string;
  /** The class of an address the private-address guard refused (`private`, `loopback`, `metadata`...). */
  addressClass?: string;
  /** `connect` or `headers`: where an upstream timeout struck. */
  timeoutPhase?: string;
}

/** Cuts the query (and fragment) off every URL in a text: upstream tokens live there. */
function withoutUrlQueries(text: string): string {
  return text.replace(/(\bhttps?:\/\/[^\s?#"'<>]*)[?#][^\s"'<>]*/gi, '$1?[redacted]');
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current instanceof Error && chain.length < 5; current = current.cause) chain.push(current);
  return chain;
}

/** The log (and status page) fields of the error a request ended with. */
export function failureFields(error: ProxyError): FailureFields {
  const detail: Omit<FailureFields, 'code' | 'cause' | 'message'> & { cause?: string } = {};
  for (const link of causeChain(error).slice(1)) {
    if (link instanceof ResolverError) {
      detail.resolverCode = link.code;
      if (link.status !== undefined) detail.resolverStatus = link.status;
      detail.cause ??= withoutUrlQueries(link.message);
    } else if (link instanceof UpstreamFetchError) {
      detail.cause ??= withoutUrlQueries(link.message);
      if (link.host !== undefined) detail.upstreamHost = link.host;
      if (link.phase !== undefined) detail.timeoutPhase = link.phase;
    } else if (link instanceof UpstreamRefusedError) {
      if (link.addressClass !== undefined) detail.addressClass = link.addressClass;
    } else if (link instanceof Error) {
      const code = (link as { code?: unknown }).code;
      detail.cause ??= withoutUrlQueries(`${link.message}${typeof code === 'string' && !link.message.includes(code) ? ` (${code})` : ''}`);
    }
  }
  const cause = detail.cause ?? error.message;
  return { code: error.code, ...detail, cause, ...(cause !== error.message ? { message: error.message } : {}) };
}

/** The episode of a request as log fields (all of them public: they are in every .strm URL). */
export function identityFields(identity: EpisodeIdentity | undefined): Record<string, string | number> {
  if (identity === undefined) return {};
  return {
    site: identity.site,
    slug: identity.slug,
    season: identity.season,
    episode: identity.episode,
    language: identity.language,
    ...(identity.provider !== undefined ? { provider: identity.provider } : {}),
  };
}
