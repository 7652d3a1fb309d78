export { DEFAULT_MAX_RANGES, formatRangeSpec, parseRangeHeader, parseRangeSpecs, rangeToForward, resolveRangeSpec } from './range-header';
export type { ByteRange, ParseRangeOptions, ParseRangeSpecsOptions, RangeResult, RangeSpec, RangeSpecsResult } from './range-header';
export { formatContentRange, parseContentRange, partialContentHeaders, unsatisfiableHeaders } from './content-range';
export type { ContentRange } from './content-range';
export { evaluateIfRange } from './if-range';
export type { IfRangeInput } from './if-range';
export { checkUpstreamRange } from './upstream';
export type { UpstreamRangeInput, UpstreamRangeVerdict } from './upstream';
