export { detectManifest, isManifestContentType, isManifestPath, MAX_SNIFF_BYTES, sniffManifest } from './detect';
export { ELEMENT_RULES, MPD_NAMESPACE, PATCH_NAMESPACE } from './elements';
export type { ElementRule, UrlAttributeRule } from './elements';
export { DashRewriteError } from './errors';
export type { DashRewriteErrorCode } from './errors';
export { resolveHttpUrl, templateDirectory } from './resolve';
export { ManifestRewriter, rewriteManifest } from './rewriter';
export { createManifestRewriteStream, createManifestRewriteTransform } from './streams';
export type { RewriteOptions, RewriteStats, UrlContext, UrlKind } from './types';
