export { scanAttributeList } from './attributes';
export type { AttributeSpan } from './attributes';
export { detectPlaylist, isPlaylistContentType, isPlaylistPath, sniffPlaylist } from './detect';
export { HlsRewriteError } from './errors';
export type { HlsRewriteErrorCode, RewriteLimitCode } from './errors';
export { mediaFileName } from './media-file-name';
export { PlaylistRewriter, rewritePlaylist } from './rewriter';
export { createPlaylistRewriteStream, createPlaylistRewriteTransform } from './streams';
export { MAX_STEERING_MANIFEST_BYTES, parseSteeringManifest, readSteeringPathways, rewriteSteeringManifest, steeringNeedsPathways } from './steering';
export type {
  PathwayClone, SteeringManifest, SteeringPathways, SteeringRendition, SteeringRewriteOptions, SteeringRewriteStats, SteeringUriContext, SteeringVariant, UriReplacement,
} from './steering';
export { TAG_RULES } from './tags';
export type { AttributeKindRule, TagRule } from './tags';
export type { RewriteOptions, RewriteStats, UriContext, UriKind } from './types';
