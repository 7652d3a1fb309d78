/**
 * Every `code` a {@link SigningError} can carry.
 *
 * @example
 * ```ts
 * const code: SigningErrorCode = 'STRM_SIGNING_UNSERIALISABLE_PAYLOAD';
 * ```
 */
export type SigningErrorCode = 'STRM_SIGNING_UNSERIALISABLE_PAYLOAD';

/**
 * The one error class of `@strm/signing`, for failures that are not plain misuse.
 *
 * Misuse (an empty secret, a non-string parameter, a negative lifetime) throws a `TypeError`
 * instead; outcomes of verification are data ({@link VerifyResult}, {@link OpenResult}), never
 * errors. Messages never contain a secret, a signature or a token.
 *
 * @example
 * ```ts
 * try {
 *   sealer.seal({ size: 10n }); // a BigInt has no JSON form
 * } catch (error) {
 *   if (error instanceof SigningError) console.log(error.code);
 *   // STRM_SIGNING_UNSERIALISABLE_PAYLOAD
 * }
 * ```
 */
export class SigningError extends Error {
  override readonly name = 'SigningError';
  readonly code: SigningErrorCode;

  constructor(code: SigningErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
