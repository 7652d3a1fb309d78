export { canonicalQuery, quotePlus, sortParamPairs, toParamPairs } from './canonical';
export type { ParamInput, ParamPair } from './canonical';
export { signParams, signedEntryUrl, verifyParams } from './entry-url';
export type { VerifyFailureReason, VerifyResult } from './entry-url';
export { apiKeyMatches } from './api-key';
export { MAX_TOKEN_LENGTH, TOKEN_VERSION, createTokenSealer } from './token';
export type { OpenFailureReason, OpenResult, TokenSealer, TokenSealerOptions } from './token';
export { SigningError } from './errors';
export type { SigningErrorCode } from './errors';
