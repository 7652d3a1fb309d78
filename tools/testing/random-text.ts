import { createHash } from 'node:crypto';

/**
 * `length` deterministic characters drawn uniformly from `alphabet`: SHA-256 of `seed` in counter
 * mode, reproducible from run to run and as incompressible as real random tokens (so compression
 * gets no help from repeats).
 */
export function randomText(length: number, alphabet: string, seed: number): string {
  let text = '';
  for (let block = 0; text.length < length; block++) {
    for (const byte of createHash('sha256').update(`${seed}:${block}`).digest()) {
      if (text.length < length) text += alphabet[byte % alphabet.length];
    }
  }
  return text;
}
