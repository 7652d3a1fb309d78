import type { UriKind } from './types';

/**
 * How the kind of a URI-valued attribute is decided: a fixed kind, or
 * `by-preload-type` (the `TYPE` attribute of the same tag: `PART` → segment, `MAP` → map), or
 * `by-extension` (`.json` → data, anything else → playlist; used by the preload `X-URI` of
 * `EXT-X-DATERANGE`, which repeats either an `X-ASSET-URI` or an `X-ASSET-LIST`).
 */
export type AttributeKindRule = UriKind | 'by-preload-type' | 'by-extension';

/**
 * What the rewriter knows about one tag.
 *
 * @example
 * ```ts
 * const rule: TagRule = { section: '4.4.4.4', uriAttributes: { URI: 'key' } };
 * ```
 */
export interface TagRule {
  /** Where the tag is defined (RFC 8216bis section, or the other specification). */
  section: string;
  /** URI-valued attributes of the tag's attribute list, by exact name. */
  uriAttributes?: Readonly<Record<string, AttributeKindRule>>;
  /** The whole tag value (after `:`) is one URI of this kind (not an attribute list). */
  valueKind?: UriKind;
  /** The tag only appears in multivariant playlists. */
  master?: true;
  /** The next URI line is a variant playlist. */
  variant?: true;
  /** The tag declares a media initialization section. */
  map?: true;
  /** The tag defines a variable (`EXT-X-DEFINE`). */
  define?: true;
  /** The tag's value is the Media Sequence Number of the first segment (`EXT-X-MEDIA-SEQUENCE`). */
  mediaSequence?: true;
  /** The tag stands for `SKIPPED-SEGMENTS` segments of a delta update (`EXT-X-SKIP`). */
  skip?: true;
}

/**
 * All tag knowledge of the rewriter, in one table: tag → URI attributes → kind, plus the tags that
 * change how later URIs are read. Tags not listed are kept as they are.
 *
 * @example
 * ```ts
 * TAG_RULES.get('EXT-X-MAP')?.uriAttributes; // { URI: 'map' }
 * ```
 */
export const TAG_RULES: ReadonlyMap<string, TagRule> = new Map<string, TagRule>([
  ['EXT-X-DEFINE', { section: '4.4.2.3', define: true }],
  ['EXT-X-MEDIA-SEQUENCE', { section: '4.4.3.2', mediaSequence: true }],
  ['EXT-X-SKIP', { section: '4.4.5.2', skip: true }],
  ['EXT-X-KEY', { section: '4.4.4.4', uriAttributes: { URI: 'key' } }],
  ['EXT-X-MAP', { section: '4.4.4.5', uriAttributes: { URI: 'map' }, map: true }],
  ['EXT-X-PART', { section: '4.4.4.9', uriAttributes: { URI: 'segment' } }],
  [
    'EXT-X-DATERANGE',
    {
      section: '4.4.5.1, appendices D.2 and F',
      uriAttributes: { 'X-ASSET-URI': 'playlist', 'X-ASSET-LIST': 'data', 'X-URI': 'by-extension' },
    },
  ],
  ['EXT-X-PRELOAD-HINT', { section: '4.4.5.3', uriAttributes: { URI: 'by-preload-type' } }],
  ['EXT-X-RENDITION-REPORT', { section: '4.4.5.4', uriAttributes: { URI: 'playlist' } }],
  ['EXT-X-MEDIA', { section: '4.4.6.1', uriAttributes: { URI: 'playlist' }, master: true }],
  ['EXT-X-STREAM-INF', { section: '4.4.6.2', variant: true, master: true }],
  ['EXT-X-I-FRAME-STREAM-INF', { section: '4.4.6.3', uriAttributes: { URI: 'playlist' }, master: true }],
  ['EXT-X-SESSION-DATA', { section: '4.4.6.4', uriAttributes: { URI: 'data' }, master: true }],
  ['EXT-X-SESSION-KEY', { section: '4.4.6.5', uriAttributes: { URI: 'key' }, master: true }],
  ['EXT-X-CONTENT-STEERING', { section: '4.4.6.6', uriAttributes: { 'SERVER-URI': 'steering' }, master: true }],
  // Not in RFC 8216bis: Roku's trick-play image playlists and the hls.js low-latency prefetch tag.
  ['EXT-X-IMAGE-STREAM-INF', { section: 'Roku image media playlists', uriAttributes: { URI: 'playlist' }, master: true }],
  ['EXT-X-PREFETCH', { section: 'hls.js LHLS', valueKind: 'segment' }],
]);
