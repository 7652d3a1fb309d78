import { scanAttributeList } from './attributes';
import { HlsRewriteError, preview } from './errors';
import { rewritePlaylist } from './rewriter';

/**
 * How a cloned pathway's URIs are derived from its base pathway's (HLS Content Steering,
 * `URI-REPLACEMENT`). A listed per-variant (per-rendition) URI wins over `HOST` and `PARAMS`.
 */
export interface UriReplacement {
  /** Replaces the host name of every URI of the base pathway. */
  HOST?: string;
  /** Query parameters set on every URI of the base pathway. */
  PARAMS?: Record<string, string>;
  /** The URI of each cloned variant, by `STABLE-VARIANT-ID`. */
  'PER-VARIANT-URIS'?: Record<string, string>;
  /** The URI of each cloned rendition, by `STABLE-RENDITION-ID`. */
  'PER-RENDITION-URIS'?: Record<string, string>;
  [other: string]: unknown;
}

/** A pathway the client builds from another one (`PATHWAY-CLONES`). */
export interface PathwayClone {
  'BASE-ID': string;
  ID: string;
  'URI-REPLACEMENT': UriReplacement;
  [other: string]: unknown;
}

/**
 * A content steering manifest (the JSON a steering server answers; HLS Content Steering 1.2).
 * Members this package does not know are kept as they are.
 */
export interface SteeringManifest {
  VERSION: 1;
  /** Seconds before the client asks again. */
  TTL: number;
  /** Where the client asks next time, relative to this manifest's URL. */
  'RELOAD-URI'?: string;
  /** Pathway IDs, most preferred first. */
  'PATHWAY-PRIORITY': string[];
  'PATHWAY-CLONES'?: PathwayClone[];
  [other: string]: unknown;
}

/** One variant stream of a multivariant playlist, as content steering sees it. */
export interface SteeringVariant {
  /** `PATHWAY-ID`, or `.` (the default pathway) when the variant has none. */
  pathwayId: string;
  stableVariantId: string | undefined;
  /** The variant playlist's absolute URL. */
  href: string;
  /** The `AUDIO` and `SUBTITLES` groups the variant uses. */
  groups: string[];
}

/** One rendition (`EXT-X-MEDIA` with a `URI`) of a multivariant playlist. */
export interface SteeringRendition {
  groupId: string;
  stableRenditionId: string | undefined;
  href: string;
}

/** The variants and renditions of a multivariant playlist, what cloning a pathway starts from. */
export interface SteeringPathways {
  variants: SteeringVariant[];
  renditions: SteeringRendition[];
}

/** What the rewrite callback learns about one URI of a steering manifest. */
export interface SteeringUriContext {
  /** The absolute upstream URL (resolved against the manifest's URL, or computed for a clone). */
  href: string;
  /** The member it goes into. */
  field: 'RELOAD-URI' | 'PER-VARIANT-URIS' | 'PER-RENDITION-URIS';
  /** `steering` for `RELOAD-URI` (the next manifest), else `playlist`. */
  kind: 'steering' | 'playlist';
  /** The clone's `ID` (undefined for `RELOAD-URI`). */
  pathwayId: string | undefined;
  /** The `STABLE-VARIANT-ID` or `STABLE-RENDITION-ID` it is keyed by. */
  stableId: string | undefined;
  /** True when the URI was computed from the clone's `HOST`/`PARAMS`, false when the manifest listed it. */
  expanded: boolean;
}

/** Options of {@link rewriteSteeringManifest}. */
export interface SteeringRewriteOptions {
  /** The URL the manifest was finally fetched from (after redirects). */
  baseUrl: string;
  /** Returns the replacement of one URI (inserted as a JSON string). */
  rewriteUri: (context: SteeringUriContext) => string;
  /**
   * The multivariant playlist's variants and renditions ({@link readSteeringPathways}). With them,
   * `HOST`/`PARAMS` clones are expanded into per-variant and per-rendition URIs; without them
   * `HOST` and `PARAMS` are dropped (the clone then plays its base pathway's URIs).
   */
  pathways?: SteeringPathways | undefined;
}

/** What a steering rewrite did, as data. */
export interface SteeringRewriteStats {
  /** URIs handed to the callback. */
  uris: number;
  /** Of those, computed from `HOST`/`PARAMS`. */
  expanded: number;
  /** Oddities worth a log line: a clone whose `HOST`/`PARAMS` could not be expanded for some URI. */
  warnings: string[];
}

/** The largest steering manifest read, in bytes: a steering manifest is a few hundred bytes. */
export const MAX_STEERING_MANIFEST_BYTES = 256 * 1024;

const DEFAULT_PATHWAY = '.';
/** The members of a `URI-REPLACEMENT` that a rewrite replaces. */
const REPLACED_MEMBERS: ReadonlySet<string> = new Set(['HOST', 'PARAMS', 'PER-VARIANT-URIS', 'PER-RENDITION-URIS']);

function invalid(message: string): never {
  throw new HlsRewriteError('HLS_STEERING_INVALID', `not a content steering manifest: ${message}`);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function checkStringMap(value: unknown, where: string): void {
  if (value === undefined) return;
  if (!isObject(value) || Object.values(value).some((entry) => typeof entry !== 'string')) invalid(`${where} must be an object of strings`);
}

function checkClone(clone: unknown, index: number): void {
  const where = `PATHWAY-CLONES[${index}]`;
  if (!isObject(clone)) invalid(`${where} must be an object`);
  if (typeof clone['BASE-ID'] !== 'string' || typeof clone.ID !== 'string') invalid(`${where} needs BASE-ID and ID strings`);
  const replacement = clone['URI-REPLACEMENT'];
  if (!isObject(replacement)) invalid(`${where}.URI-REPLACEMENT must be an object`);
  if (replacement.HOST !== undefined && typeof replacement.HOST !== 'string') invalid(`${where}.URI-REPLACEMENT.HOST must be a string`);
  for (const key of ['PARAMS', 'PER-VARIANT-URIS', 'PER-RENDITION-URIS']) checkStringMap(replacement[key], `${where}.URI-REPLACEMENT.${key}`);
}

/**
 * Reads and checks a steering manifest: JSON (UTF-8, at most {@link MAX_STEERING_MANIFEST_BYTES}),
 * `VERSION` 1, a `TTL`, a `PATHWAY-PRIORITY` of strings, and well-formed `RELOAD-URI` and
 * `PATHWAY-CLONES`. Throws {@link HlsRewriteError} `HLS_STEERING_TOO_LARGE` or `HLS_STEERING_INVALID`.
 *
 * @example
 * ```ts
 * parseSteeringManifest('{"VERSION":1,"TTL":300,"PATHWAY-PRIORITY":["CDN-A","CDN-B"]}')['PATHWAY-PRIORITY'];
 * // ['CDN-A', 'CDN-B']
 * ```
 */
export function parseSteeringManifest(input: string | Uint8Array): SteeringManifest {
  // A string is at least as many UTF-8 bytes as it has code units: only a short one is measured.
  const size = typeof input !== 'string' ? input.byteLength : input.length > MAX_STEERING_MANIFEST_BYTES ? input.length : new TextEncoder().encode(input).byteLength;
  if (size > MAX_STEERING_MANIFEST_BYTES) {
    throw new HlsRewriteError('HLS_STEERING_TOO_LARGE', `the steering manifest is larger than ${MAX_STEERING_MANIFEST_BYTES} bytes (${size})`);
  }
  let text: string;
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    invalid('the body is not UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    invalid(`the body is not JSON (it starts ${preview(text.trimStart())})`);
  }
  if (!isObject(value)) invalid('the JSON is not an object');
  if (value.VERSION !== 1) invalid(`VERSION must be 1, received ${preview(JSON.stringify(value.VERSION) ?? 'nothing')}`);
  if (typeof value.TTL !== 'number' || !(value.TTL >= 0)) invalid('TTL must be a number of seconds');
  const priority = value['PATHWAY-PRIORITY'];
  if (!Array.isArray(priority) || priority.some((id) => typeof id !== 'string')) invalid('PATHWAY-PRIORITY must be an array of pathway IDs');
  if (value['RELOAD-URI'] !== undefined && typeof value['RELOAD-URI'] !== 'string') invalid('RELOAD-URI must be a string');
  const clones = value['PATHWAY-CLONES'];
  if (clones !== undefined) {
    if (!Array.isArray(clones)) invalid('PATHWAY-CLONES must be an array');
    clones.forEach(checkClone);
  }
  return value as SteeringManifest;
}

/**
 * Whether rewriting this manifest needs the multivariant playlist's pathways: some clone derives
 * URIs from `HOST` or `PARAMS`, which only the variants' own URIs can be expanded from.
 *
 * @example
 * ```ts
 * steeringNeedsPathways(parseSteeringManifest('{"VERSION":1,"TTL":1,"PATHWAY-PRIORITY":["B"],"PATHWAY-CLONES":[{"BASE-ID":"A","ID":"B","URI-REPLACEMENT":{"HOST":"b.example"}}]}'));
 * // true
 * ```
 */
export function steeringNeedsPathways(manifest: SteeringManifest): boolean {
  return (manifest['PATHWAY-CLONES'] ?? []).some(({ 'URI-REPLACEMENT': replacement }) => replacement.HOST !== undefined || replacement.PARAMS !== undefined);
}

/** The quoted or plain value of each attribute of an attribute list, by name. */
function attributesOf(line: string): Map<string, string> {
  const colon = line.indexOf(':');
  const values = new Map<string, string>();
  if (colon === -1) return values;
  for (const span of scanAttributeList(line, colon + 1, line.length).attributes) {
    values.set(line.slice(span.nameStart, span.nameEnd), line.slice(span.valueStart, span.valueEnd));
  }
  return values;
}

/**
 * The variants (`EXT-X-STREAM-INF` and their URI lines) and renditions (`EXT-X-MEDIA` with a
 * `URI`) of a multivariant playlist, with their pathway, stable IDs, groups and absolute URLs
 * (resolved as {@link rewritePlaylist} resolves them, variables included).
 *
 * @example
 * ```ts
 * readSteeringPathways('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,PATHWAY-ID="A",STABLE-VARIANT-ID="hd"\nhd.m3u8\n', 'https://a.example/m.m3u8').variants;
 * // [{ pathwayId: 'A', stableVariantId: 'hd', href: 'https://a.example/hd.m3u8', groups: [] }]
 * ```
 */
export function readSteeringPathways(text: string, baseUrl: string): SteeringPathways {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  const pathways: SteeringPathways = { variants: [], renditions: [] };
  let streamInf: Map<string, string> | undefined;
  let lastLine = 0;
  rewritePlaylist(text, {
    baseUrl,
    rewriteUri: (context) => {
      // The EXT-X-STREAM-INF a URI line belongs to is the last one before it.
      for (let at = lastLine; at < context.lineNumber - 1; at++) {
        if (lines[at]!.startsWith('#EXT-X-STREAM-INF:')) streamInf = attributesOf(lines[at]!.trimEnd());
      }
      lastLine = context.lineNumber;
      if (context.tag === undefined && context.kind === 'playlist' && streamInf !== undefined) {
        const groups = ['AUDIO', 'SUBTITLES'].flatMap((name) => streamInf!.get(name) ?? []);
        pathways.variants.push({ pathwayId: streamInf.get('PATHWAY-ID') ?? DEFAULT_PATHWAY, stableVariantId: streamInf.get('STABLE-VARIANT-ID'), href: context.href, groups });
        streamInf = undefined;
      } else if (context.tag === 'EXT-X-MEDIA' && context.attribute === 'URI') {
        const attributes = attributesOf(lines[context.lineNumber - 1]!.trimEnd());
        pathways.renditions.push({ groupId: attributes.get('GROUP-ID') ?? '', stableRenditionId: attributes.get('STABLE-RENDITION-ID'), href: context.href });
      }
      return context.uri;
    },
  });
  return pathways;
}

/** A URI of the base pathway with the clone's `HOST` and `PARAMS` applied, as a client applies them. */
function replaceHostAndParams(href: string, replacement: UriReplacement): string {
  const url = new URL(href);
  if (replacement.HOST !== undefined) url.hostname = replacement.HOST;
  for (const name of Object.keys(replacement.PARAMS ?? {}).sort()) {
    if (name !== '') url.searchParams.set(name, replacement.PARAMS![name]!);
  }
  return url.href;
}

/** An http(s) URL resolved against `base`, or undefined (other schemes are left as they are). */
function httpUrl(uri: string, base: string): string | undefined {
  try {
    const url = new URL(uri, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

interface ClonedUris {
  field: 'PER-VARIANT-URIS' | 'PER-RENDITION-URIS';
  /** The base pathway's URIs by stable ID (those without one cannot be keyed). */
  base: ReadonlyArray<{ stableId: string | undefined; href: string }>;
}

/** Per-variant or per-rendition URIs of one clone: the listed ones rewritten, `HOST`/`PARAMS` expanded for the rest. */
function cloneUris(clone: PathwayClone, uris: ClonedUris, options: SteeringRewriteOptions, stats: SteeringRewriteStats, hrefs: Map<string, string>): Record<string, string> {
  const replacement = clone['URI-REPLACEMENT'];
  const listed = replacement[uris.field] ?? {};
  const derives = replacement.HOST !== undefined || replacement.PARAMS !== undefined;
  const out: Record<string, string> = {};
  const write = (stableId: string, href: string, expanded: boolean) => {
    hrefs.set(stableId, href);
    out[stableId] = options.rewriteUri({ href, field: uris.field, kind: 'playlist', pathwayId: clone.ID, stableId, expanded });
    stats.uris += 1;
    if (expanded) stats.expanded += 1;
  };
  for (const [stableId, uri] of Object.entries(listed)) {
    const href = httpUrl(uri, options.baseUrl);
    if (href === undefined) out[stableId] = uri;
    else write(stableId, href, false);
  }
  if (!derives) return out;
  for (const { stableId, href } of uris.base) {
    if (stableId === undefined) {
      stats.warnings.push(`pathway ${preview(clone.ID)}: a ${uris.field === 'PER-VARIANT-URIS' ? 'variant' : 'rendition'} without a stable ID keeps its base pathway's URI`);
    } else if (!(stableId in listed)) {
      write(stableId, replaceHostAndParams(href, replacement), true);
    }
  }
  return out;
}

/**
 * Rewrites a content steering manifest so that every URI in it goes through `rewriteUri`:
 * `RELOAD-URI` (resolved against `baseUrl`), the listed `PER-VARIANT-URIS` and
 * `PER-RENDITION-URIS`, and, given the multivariant playlist's `pathways`, the URIs a client would
 * compute from a clone's `HOST` and `PARAMS`, written as per-variant and per-rendition URIs keyed
 * by `STABLE-VARIANT-ID` / `STABLE-RENDITION-ID`. `HOST` and `PARAMS` are then dropped: a client
 * applying them to a rewritten URI would bypass whatever the URIs were rewritten to. Clones are
 * expanded in order, so a clone of a clone starts from its base's expanded URIs.
 * `PATHWAY-PRIORITY`, `TTL` and unknown members are kept.
 *
 * @example
 * ```ts
 * const { manifest } = rewriteSteeringManifest(
 *   '{"VERSION":1,"TTL":300,"RELOAD-URI":"next.json","PATHWAY-PRIORITY":["A","B"],' +
 *     '"PATHWAY-CLONES":[{"BASE-ID":"A","ID":"B","URI-REPLACEMENT":{"HOST":"b.example"}}]}',
 *   {
 *     baseUrl: 'https://steer.example/s/manifest.json',
 *     pathways: { variants: [{ pathwayId: 'A', stableVariantId: 'hd', href: 'https://a.example/hd.m3u8', groups: [] }], renditions: [] },
 *     rewriteUri: ({ href }) => `https://proxy.example/p?u=${encodeURIComponent(href)}`,
 *   },
 * );
 * manifest['RELOAD-URI']; // 'https://proxy.example/p?u=https%3A%2F%2Fsteer.example%2Fs%2Fnext.json'
 * manifest['PATHWAY-CLONES']![0]!['URI-REPLACEMENT'];
 * // { 'PER-VARIANT-URIS': { hd: 'https://proxy.example/p?u=https%3A%2F%2Fb.example%2Fhd.m3u8' } }
 * ```
 */
export function rewriteSteeringManifest(
  input: string | Uint8Array | SteeringManifest,
  options: SteeringRewriteOptions,
): { text: string; manifest: SteeringManifest; stats: SteeringRewriteStats } {
  const manifest = structuredClone(typeof input === 'string' || input instanceof Uint8Array ? parseSteeringManifest(input) : input);
  const stats: SteeringRewriteStats = { uris: 0, expanded: 0, warnings: [] };
  const reload = manifest['RELOAD-URI'];
  const reloadHref = reload === undefined ? undefined : httpUrl(reload, options.baseUrl);
  if (reloadHref !== undefined) {
    manifest['RELOAD-URI'] = options.rewriteUri({ href: reloadHref, field: 'RELOAD-URI', kind: 'steering', pathwayId: undefined, stableId: undefined, expanded: false });
    stats.uris += 1;
  }
  const variants = new Map<string, SteeringVariant[]>();
  for (const variant of options.pathways?.variants ?? []) variants.set(variant.pathwayId, [...(variants.get(variant.pathwayId) ?? []), variant]);
  // Renditions by group, per pathway: a clone's renditions are its own copies of its base's groups.
  const renditions = new Map<string, SteeringRendition[]>();
  for (const clone of manifest['PATHWAY-CLONES'] ?? []) {
    const replacement = clone['URI-REPLACEMENT'];
    const baseVariants = variants.get(clone['BASE-ID']) ?? [];
    const groups = new Set(baseVariants.flatMap((variant) => variant.groups));
    const baseRenditions = (renditions.get(clone['BASE-ID']) ?? options.pathways?.renditions ?? []).filter((rendition) => groups.has(rendition.groupId));
    if ((replacement.HOST !== undefined || replacement.PARAMS !== undefined) && options.pathways === undefined) {
      stats.warnings.push(`pathway ${preview(clone.ID)}: HOST and PARAMS dropped, the multivariant playlist was not given`);
    }
    const variantHrefs = new Map<string, string>();
    const renditionHrefs = new Map<string, string>();
    const perVariant = cloneUris(clone, { field: 'PER-VARIANT-URIS', base: baseVariants.map((variant) => ({ stableId: variant.stableVariantId, href: variant.href })) }, options, stats, variantHrefs);
    const perRendition = cloneUris(clone, { field: 'PER-RENDITION-URIS', base: baseRenditions.map((rendition) => ({ stableId: rendition.stableRenditionId, href: rendition.href })) }, options, stats, renditionHrefs);
    if (!variants.has(clone.ID)) {
      variants.set(clone.ID, baseVariants.map((variant) => ({ ...variant, pathwayId: clone.ID, href: variantHrefs.get(variant.stableVariantId ?? '') ?? variant.href })));
      renditions.set(clone.ID, baseRenditions.map((rendition) => ({ ...rendition, href: renditionHrefs.get(rendition.stableRenditionId ?? '') ?? rendition.href })));
    }
    const kept = Object.fromEntries(Object.entries(replacement).filter(([key]) => !REPLACED_MEMBERS.has(key)));
    clone['URI-REPLACEMENT'] = {
      ...kept,
      ...(Object.keys(perVariant).length > 0 ? { 'PER-VARIANT-URIS': perVariant } : {}),
      ...(Object.keys(perRendition).length > 0 ? { 'PER-RENDITION-URIS': perRendition } : {}),
    };
  }
  return { text: JSON.stringify(manifest), manifest, stats };
}
