import type { StoredResolution } from '@strm/resolver-client';

/** @internal The JSON text kept in Redis for one value. */
export function encodeStored(value: StoredResolution): string {
  return JSON.stringify(value);
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * @internal Parses a value read from Redis; anything that is not a stored resolution (another
 * program's data under our prefix, a truncated write) is a miss, never an error for the caller.
 */
export function decodeStored(text: string): StoredResolution | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || typeof parsed.resolvedAt !== 'number' || typeof parsed.refreshed !== 'boolean') return undefined;
  const { resolution } = parsed;
  if (!isRecord(resolution) || typeof resolution.url !== 'string' || !isRecord(resolution.headers)) return undefined;
  if (!Object.values(resolution.headers).every((header) => typeof header === 'string')) return undefined;
  if (resolution.provider !== undefined && typeof resolution.provider !== 'string') return undefined;
  if (resolution.expiresAt !== undefined && typeof resolution.expiresAt !== 'number') return undefined;
  return {
    resolution: {
      url: resolution.url,
      headers: { ...(resolution.headers as Record<string, string>) },
      ...(resolution.provider === undefined ? {} : { provider: resolution.provider }),
      ...(resolution.expiresAt === undefined ? {} : { expiresAt: resolution.expiresAt }),
    },
    resolvedAt: parsed.resolvedAt,
    refreshed: parsed.refreshed,
  };
}
