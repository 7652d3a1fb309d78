import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createManifestRewriteTransform, type RewriteOptions, type UrlContext } from '../src/index';

/** The deterministic callback of the golden fixtures: kind and absolute URL visible, and an `&` that must come out as `&amp;`. */
export const proxyCallback = ({ kind, href }: UrlContext): string => `https://proxy.test/${kind}?u=${encodeURIComponent(href)}&v=1`;

export const identity = ({ uri }: UrlContext): string => uri;

/** Runs bytes through the Node transform, written as the given chunks, and returns the output bytes. */
export async function throughTransform(chunks: Uint8Array[], options: RewriteOptions): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(Readable.from(chunks, { objectMode: false }), createManifestRewriteTransform(options), async (source) => {
    for await (const part of source) parts.push(part as Buffer);
  });
  return Buffer.concat(parts);
}

/** Cuts bytes into pieces of `size` bytes. */
export function cut(bytes: Uint8Array, size: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) pieces.push(bytes.subarray(offset, offset + size));
  return pieces;
}
