import { scanAttributeList, type AttributeSpan } from './attributes';
import { HlsRewriteError, preview } from './errors';
import { isNormalizedHttpUrl, isPlainRelativeReference } from './resolve';
import { TAG_RULES, type AttributeKindRule } from './tags';
import type { RewriteOptions, RewriteStats, UriContext, UriKind } from './types';
import { importedValue, importsMap, queryParameterValue, readDefinition, substituteVariables, type DefineAttributes, type SubstitutionGuard } from './variables';
import { validateLimits } from './limits';

const EXTM3U = '#EXTM3U';
const DEFINE_ATTRIBUTES = ['NAME', 'VALUE', 'IMPORT', 'QUERYPARAM'] as const;
const DEFAULT_MAX_LINE_LENGTH = 1024 * 1024;
/** Defaults of the limits on one playlist's work (see `RewriteOptions`). */
const DEFAULT_LIMITS = {
  maxUriLength: 64 * 1024,
  maxVariableReferences: 100_000,
  maxUris: 1_000_000,
  maxOutputLength: 64 * 1024 * 1024,
  maxOutputRatio: 64,
} as const;
/** What the output may grow beyond `maxOutputRatio` times the input: room for a short multivariant playlist. */
const OUTPUT_RATIO_ALLOWANCE = 64 * 1024;
const MAX_WARNINGS = 100;
const STRING_SLICE = 64 * 1024;

/** Makes V8 store a concatenated string as one flat string, so that its pieces can be collected. */
function flatten(text: string): string {
  if (text.length > 0) text.charCodeAt(text.length >> 1);
  return text;
}
/** Whether a UTF-16 code unit is a C0 control other than tab, LF and CR, or DEL: RFC 8216bis §4.1 forbids them, binary data is full of them. */
function isForbiddenControl(code: number): boolean {
  return (code < 32 && code !== 9 && code !== 10 && code !== 13) || code === 127;
}

/** The URI attributes of each tag as a list, derived once from the table so lines need no `Object.keys`. */
const URI_ATTRIBUTES: ReadonlyMap<string, ReadonlyArray<readonly [string, AttributeKindRule]>> = new Map(
  [...TAG_RULES].flatMap(([tag, rule]) => (rule.uriAttributes ? [[tag, Object.entries(rule.uriAttributes)] as const] : [])),
);

/** Throws `HLS_INVALID_TEXT` when text holds a forbidden control character (a plain loop: twice as fast as a regex search here). */
function assertNoControlCharacters(text: string, where: string): void {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 32 || code === 127) {
      if (!isForbiddenControl(code)) continue;
      throw new HlsRewriteError(
        'HLS_INVALID_TEXT',
        `playlist text holds the control character U+${code.toString(16).padStart(4, '0').toUpperCase()} ${where}: expected UTF-8 text with only tab, CR and LF as controls (RFC 8216bis 4.1), as a playlist is, not binary data`,
      );
    }
  }
}

function isWhitespace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

interface ValidatedOptions {
  base: URL;
  /** The base without its last path segment, query and fragment: the prefix of plain relative references. */
  baseDirectory: string;
  rewriteUri: (context: UriContext) => string;
  maxLineLength: number;
  limits: RewriteLimits;
  imports: ReadonlyMap<string, string> | undefined;
}

type RewriteLimits = { -readonly [Name in keyof typeof DEFAULT_LIMITS]: number };


function validateOptions(options: RewriteOptions): ValidatedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`rewrite options must be an object with baseUrl and rewriteUri, received ${String(options)}`);
  }
  const { baseUrl, rewriteUri, maxLineLength = DEFAULT_MAX_LINE_LENGTH } = options;
  let base: URL;
  try {
    base = new URL(String(baseUrl));
  } catch (cause) {
    throw new TypeError(`options.baseUrl must be an absolute http(s) URL, received ${preview(String(baseUrl))}`, { cause });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError(`options.baseUrl must be an http(s) URL, received the scheme ${preview(base.protocol)}`);
  }
  if (typeof rewriteUri !== 'function') {
    throw new TypeError(`options.rewriteUri must be a function, received ${typeof rewriteUri}`);
  }
  if (!Number.isSafeInteger(maxLineLength) || maxLineLength < 1) {
    throw new TypeError(`options.maxLineLength must be a positive integer, received ${String(maxLineLength)}`);
  }
  return { base, baseDirectory: new URL('./', base).href, rewriteUri, maxLineLength, limits: validateLimits(DEFAULT_LIMITS, options, ['maxOutputRatio']), imports: importsMap(options.imports) };
}

/**
 * The line machine shared by the string and the stream APIs. It takes decoded text in pieces that
 * may end anywhere, rewrites each complete line, and keeps only the unfinished last line.
 * Output is built from slices of the input between replacements, so unchanged lines cost no copies.
 */
class RewriteCore {
  readonly stats: RewriteStats = { uris: 0, byTag: {}, skipped: 0, warnings: [], lines: 0 };
  private readonly options: ValidatedOptions;
  private headerDone = false;
  private startSeen = false;
  private droppedWhitespace = false;
  private isMaster = false;
  private hasMap = false;
  private pendingVariant = false;
  private lineNumber = 0;
  private carry = '';
  private variables: Map<string, string> | undefined;
  private importSeen = false;
  private mediaSequence = 0;
  /** Segments met so far (URI lines, and those an `EXT-X-SKIP` stands for). */
  private segments = 0;
  /** Where the next `{$` of the current push's text is (memoized so that lines cost no repeated scans); -1 unknown. */
  private nextReference = -1;
  // Per push: the output so far and how far the input has been copied into it.
  private output = '';
  private copied = 0;
  private droppedWarnings = 0;
  // For the limits: input taken (after a dropped BOM and leading whitespace), how much longer the
  // output is than the input it replaced, and the variable references substituted.
  private inputLength = 0;
  private growth = 0;
  private variableReferences = 0;

  constructor(options: RewriteOptions) {
    this.options = validateOptions(options);
  }

  pushText(text: string, final: boolean): string {
    let data = this.carry.length > 0 ? this.carry + text : text;
    this.carry = '';
    if (!this.headerDone) {
      const rest = this.readHeader(data, final);
      if (rest === undefined) return '';
      data = rest;
      this.inputLength = data.length;
    } else {
      this.inputLength += text.length;
    }
    this.output = '';
    this.copied = 0;
    this.nextReference = -1;
    let start = 0;
    for (;;) {
      const newline = data.indexOf('\n', start);
      if (newline === -1) break;
      this.line(data, start, newline);
      start = newline + 1;
    }
    let consumed = start;
    if (final) {
      if (start < data.length) this.line(data, start, data.length);
      consumed = data.length;
      if (this.droppedWarnings > 0) this.stats.warnings.push(`${this.droppedWarnings} more warnings were left out`);
    } else if (start < data.length) {
      this.carry = data.slice(start);
      const contentLength = this.carry.length - (this.carry.charCodeAt(this.carry.length - 1) === 13 ? 1 : 0);
      if (contentLength > this.options.maxLineLength) this.tooLong(this.lineNumber + 1, contentLength);
    }
    const result = this.copied === 0 && consumed === data.length ? data : this.output + data.slice(this.copied, consumed);
    this.output = '';
    return result;
  }

  /**
   * Drops a leading BOM and whitespace and checks that `#EXTM3U` comes first. Returns the text from
   * `#EXTM3U` on, or `undefined` while the text so far is still a prefix of it.
   */
  private readHeader(data: string, final: boolean): string | undefined {
    let index = 0;
    if (!this.startSeen && data.length > 0) {
      this.startSeen = true;
      if (data.charCodeAt(0) === 0xfeff) index = 1;
    }
    while (index < data.length && isWhitespace(data.charCodeAt(index))) {
      if (data.charCodeAt(index) === 10) {
        this.lineNumber++;
        this.stats.lines++;
      }
      this.droppedWhitespace = true;
      index++;
    }
    const rest = index === 0 ? data : data.slice(index);
    if (rest.length < EXTM3U.length) {
      if (EXTM3U.startsWith(rest)) {
        if (!final) {
          this.carry = rest;
          return undefined;
        }
        if (rest.length === 0) {
          throw new HlsRewriteError('HLS_NOT_A_PLAYLIST', 'the playlist is empty: expected #EXTM3U as its first line (RFC 8216bis 4.4.1.1)');
        }
        throw new HlsRewriteError(
          'HLS_TRUNCATED',
          `the input ended inside its first line ${preview(rest)}: expected a complete #EXTM3U line`,
        );
      }
    } else if (rest.startsWith(EXTM3U)) {
      this.headerDone = true;
      if (this.droppedWhitespace) this.warn(`whitespace before #EXTM3U was dropped (players expect #EXTM3U first)`);
      return rest;
    }
    throw new HlsRewriteError(
      'HLS_NOT_A_PLAYLIST',
      `not an HLS playlist: expected #EXTM3U as the first line (RFC 8216bis 4.4.1.1), received ${preview(rest)}`,
    );
  }

  private line(data: string, start: number, newline: number): void {
    this.lineNumber++;
    this.stats.lines++;
    let end = newline;
    if (end > start && data.charCodeAt(end - 1) === 13) end--;
    if (end - start > this.options.maxLineLength) this.tooLong(this.lineNumber, end - start);
    if (end === start) return;
    if (data.charCodeAt(start) === 35 /* # */) {
      // Every tag the table knows starts with "#EXT-"; EXTINF and comments stop at this cheap check.
      if (end - start > 5 && data.charCodeAt(start + 4) === 45 && data.startsWith('#EXT', start)) this.tagLine(data, start, end, newline);
      return;
    }
    let uriStart = start;
    let uriEnd = end;
    while (uriStart < uriEnd && (data.charCodeAt(uriStart) === 32 || data.charCodeAt(uriStart) === 9)) uriStart++;
    while (uriEnd > uriStart && (data.charCodeAt(uriEnd - 1) === 32 || data.charCodeAt(uriEnd - 1) === 9)) uriEnd--;
    if (uriStart === uriEnd || data.charCodeAt(uriStart) === 35) return;
    const kind: UriKind = this.pendingVariant || this.isMaster ? 'playlist' : 'segment';
    this.pendingVariant = false;
    this.rewrite(data, uriStart, uriEnd, undefined, undefined, kind, 'line');
    if (!this.isMaster) this.segments++;
  }

  private tagLine(data: string, start: number, end: number, newline: number): void {
    let nameEnd = start + 1;
    while (nameEnd < end && data.charCodeAt(nameEnd) !== 58 /* : */) nameEnd++;
    const tag = data.slice(start + 1, nameEnd);
    const rule = TAG_RULES.get(tag);
    if (rule?.master) this.enterMaster();
    if (rule?.variant) this.pendingVariant = true;
    if (rule?.map) this.hasMap = true;
    if (nameEnd >= end) return;
    const valueStart = nameEnd + 1;
    if (rule?.mediaSequence || rule?.skip) {
      this.countSequence(data, valueStart, end, rule.skip === true);
      return;
    }
    if (rule?.define) {
      this.define(data, start, valueStart, end, newline);
      return;
    }
    if (rule?.valueKind !== undefined) {
      this.rewrite(data, valueStart, end, tag, undefined, rule.valueKind, 'line');
      return;
    }
    const uriAttributes = URI_ATTRIBUTES.get(tag);
    // A tag without URI attributes is only read when it holds a variable reference (RFC 8216bis 4.3).
    const hasReference = this.referenceWithin(data, valueStart, end);
    if (uriAttributes === undefined && !hasReference) return;
    const { attributes, unterminatedAt } = scanAttributeList(data, valueStart, end);
    if (unterminatedAt !== undefined) {
      this.warn(
        `line ${this.lineNumber}: ${tag} has a quoted-string without its closing quote at column ${unterminatedAt - start + 1}; the rest of the line is kept as it is`,
      );
    }
    let typeValue: string | undefined;
    for (const attribute of attributes) {
      if (nameIs(data, attribute, 'TYPE')) typeValue = data.slice(attribute.valueStart, attribute.valueEnd);
    }
    for (const attribute of attributes) {
      const kindRule = uriAttributes?.find(([name]) => nameIs(data, attribute, name))?.[1];
      if (kindRule !== undefined) {
        const name = data.slice(attribute.nameStart, attribute.nameEnd);
        this.rewrite(data, attribute.valueStart, attribute.valueEnd, tag, name, this.kindOf(kindRule, tag, typeValue), attribute.quoted ? 'quoted' : 'unquoted', typeValue);
      } else if (hasReference && isSubstitutable(data, attribute)) {
        this.substituteInPlace(data, attribute.valueStart, attribute.valueEnd);
      }
    }
  }

  private kindOf(kindRule: AttributeKindRule, tag: string, typeValue: string | undefined): UriKind | 'by-extension' {
    if (kindRule !== 'by-preload-type') return kindRule;
    if (typeValue === 'PART') return 'segment';
    if (typeValue === 'MAP') return 'map';
    this.warn(`line ${this.lineNumber}: ${tag} TYPE ${preview(typeValue ?? '(missing)')} is neither PART nor MAP; its URI is treated as a segment`);
    return 'segment';
  }

  /** Reads `EXT-X-MEDIA-SEQUENCE` or the `SKIPPED-SEGMENTS` of `EXT-X-SKIP`; a value that is not a decimal-integer is ignored, with a warning. */
  private countSequence(data: string, start: number, end: number, skip: boolean): void {
    let text = data.slice(start, end);
    if (skip) {
      const skipped = scanAttributeList(data, start, end).attributes.find((attribute) => nameIs(data, attribute, 'SKIPPED-SEGMENTS'));
      text = skipped === undefined ? '' : data.slice(skipped.valueStart, skipped.valueEnd);
    }
    if (!/^\d{1,20}$/.test(text)) {
      this.warn(`line ${this.lineNumber}: ${skip ? 'EXT-X-SKIP SKIPPED-SEGMENTS' : 'EXT-X-MEDIA-SEQUENCE'} ${preview(text)} is not a decimal-integer; segment numbers ignore it`);
      return;
    }
    if (skip) this.segments += Number(text);
    else this.mediaSequence = Number(text);
  }

  /** A multivariant playlist may not IMPORT (RFC 8216bis 4.4.2.3): that is only known once one of its tags is seen. */
  private enterMaster(): void {
    this.isMaster = true;
    if (this.importSeen) {
      throw new HlsRewriteError('HLS_BAD_VARIABLE', `line ${this.lineNumber}: a multivariant playlist holds EXT-X-DEFINE IMPORT, which RFC 8216bis 4.4.2.3 allows only in media playlists`);
    }
  }

  /** Whether `data[start, end)` holds `{$`, found with one forward scan per pushed text. */
  private referenceWithin(data: string, start: number, end: number): boolean {
    if (this.nextReference !== Number.MAX_SAFE_INTEGER && this.nextReference < start) {
      const found = data.indexOf('{$', start);
      this.nextReference = found === -1 ? Number.MAX_SAFE_INTEGER : found;
    }
    return this.nextReference < end;
  }

  /** Replaces `data[start, end)` in the output by its text with variables substituted, when that differs. */
  private substituteInPlace(data: string, start: number, end: number): void {
    const text = data.slice(start, end);
    const substituted = this.substitute(text);
    if (substituted === text) return;
    this.account(data, start, end, substituted.length);
    this.output += data.slice(this.copied, start) + substituted;
    this.copied = end;
  }

  /** Leaves the line `data[start, newline]` (with its line ending) out of the output. */
  private dropLine(data: string, start: number, newline: number): void {
    this.output += data.slice(this.copied, start);
    this.copied = Math.min(newline + 1, data.length);
  }

  /**
   * Records an `EXT-X-DEFINE` variable (RFC 8216bis 4.4.2.3) so that references resolve to what a
   * player would fetch. IMPORT and QUERYPARAM lines are left out of the output: every reference is
   * substituted here, and their values (the upstream URL's query, the upstream multivariant
   * playlist's variables) are not the client's to see, nor could a client find them: a proxy URL
   * has no such query. NAME/VALUE lines stay (with their own references substituted).
   */
  private define(data: string, lineStart: number, start: number, end: number, newline: number): void {
    const { attributes } = scanAttributeList(data, start, end);
    const fields: DefineAttributes = {};
    let valueSpan: AttributeSpan | undefined;
    for (const attribute of attributes) {
      for (const name of DEFINE_ATTRIBUTES) {
        if (!nameIs(data, attribute, name)) continue;
        fields[name] = data.slice(attribute.valueStart, attribute.valueEnd);
        if (name === 'VALUE') valueSpan = attribute;
      }
    }
    const definition = readDefinition(fields, this.lineNumber);
    let value: string;
    if (definition.form === 'NAME') {
      value = substituteVariables(definition.value, this.variables, this.lineNumber);
      if (value !== definition.value) this.substituteInPlace(data, valueSpan!.valueStart, valueSpan!.valueEnd);
    } else if (definition.form === 'IMPORT') {
      if (this.isMaster) {
        throw new HlsRewriteError('HLS_BAD_VARIABLE', `line ${this.lineNumber}: EXT-X-DEFINE IMPORT in a multivariant playlist, which RFC 8216bis 4.4.2.3 allows only in media playlists`);
      }
      this.importSeen = true;
      value = importedValue(this.options.imports, definition.name, this.lineNumber);
      this.dropLine(data, lineStart, newline);
    } else {
      value = queryParameterValue(this.options.base, definition.name, this.lineNumber);
      this.dropLine(data, lineStart, newline);
    }
    this.variables ??= new Map();
    if (this.variables.has(definition.name)) {
      throw new HlsRewriteError('HLS_BAD_VARIABLE', `line ${this.lineNumber}: EXT-X-DEFINE declares ${preview(definition.name)} a second time, which a client MUST refuse (RFC 8216bis 4.4.2.3)`);
    }
    this.variables.set(definition.name, value);
  }

  /**
   * Substitutes the `{$name}` references of a text (RFC 8216bis 4.3). Each reference counts
   * against `maxVariableReferences`, and the expansion is measured before it is built, so a short
   * line that references a long value many times stops at the first reference too many.
   */
  private substitute(text: string): string {
    return substituteVariables(text, this.variables, this.lineNumber, this.guard);
  }

  private readonly guard: SubstitutionGuard = {
    reference: () => {
      const { maxVariableReferences } = this.options.limits;
      if (++this.variableReferences > maxVariableReferences) {
        throw new HlsRewriteError(
          'HLS_TOO_MANY_VARIABLE_REFERENCES',
          `line ${this.lineNumber}: the playlist's URIs hold more than maxVariableReferences (${maxVariableReferences}) {$variable} references`,
        );
      }
    },
    length: (total) => {
      if (total > this.options.limits.maxUriLength) this.uriTooLong(total);
    },
  };

  private uriTooLong(length: number): never {
    throw new HlsRewriteError(
      'HLS_URI_TOO_LONG',
      `line ${this.lineNumber}: a URI is longer than maxUriLength once its variables are substituted: expected at most ${this.options.limits.maxUriLength} characters, received ${length} or more`,
    );
  }

  /** Counts the output a replacement adds; throws before the output passes a limit. */
  private account(data: string, start: number, end: number, replacementLength: number): void {
    const { maxOutputLength, maxOutputRatio } = this.options.limits;
    // Input read up to the end of this URI, and the output up to the end of its replacement.
    const input = this.inputLength - (data.length - end);
    const output = input + this.growth + replacementLength - (end - start);
    if (output > maxOutputLength) {
      throw new HlsRewriteError('HLS_OUTPUT_TOO_LARGE', `line ${this.lineNumber}: the output would be longer than maxOutputLength (${maxOutputLength} characters)`);
    }
    if (output > maxOutputRatio * input + OUTPUT_RATIO_ALLOWANCE) {
      throw new HlsRewriteError(
        'HLS_OUTPUT_AMPLIFIED',
        `line ${this.lineNumber}: the output would grow past maxOutputRatio (${maxOutputRatio}) times the ${input} characters of input read so far`,
      );
    }
    this.growth += replacementLength - (end - start);
  }

  private rewrite(
    data: string,
    start: number,
    end: number,
    tag: string | undefined,
    attribute: string | undefined,
    kindOrRule: UriKind | 'by-extension',
    placement: 'line' | 'quoted' | 'unquoted',
    typeValue?: string,
  ): void {
    if (start === end) return;
    const uri = data.slice(start, end);
    const target = uri.includes('{$') ? this.substitute(uri) : uri;
    if (target.length > this.options.limits.maxUriLength) this.uriTooLong(target.length);
    let href: string;
    let url: URL | undefined;
    let kind: UriKind;
    if (isPlainRelativeReference(target)) {
      href = this.options.baseDirectory + target;
      kind = kindOrRule === 'by-extension' ? kindByExtension(target, target.indexOf('?')) : kindOrRule;
    } else if (isNormalizedHttpUrl(target)) {
      href = target;
      kind = kindOrRule === 'by-extension' ? kindByExtension(target, target.indexOf('?')) : kindOrRule;
    } else {
      try {
        url = new URL(target, this.options.base);
      } catch {
        this.keep(data, start, end, target);
        this.warn(`line ${this.lineNumber}: ${preview(uri)} is not a valid URI reference; kept as it is`);
        return;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        this.keep(data, start, end, target);
        return;
      }
      href = url.href;
      kind = kindOrRule === 'by-extension' ? kindByExtension(url.pathname, -1) : kindOrRule;
    }
    if (this.stats.uris >= this.options.limits.maxUris) {
      throw new HlsRewriteError('HLS_TOO_MANY_URIS', `line ${this.lineNumber}: the playlist has more than maxUris (${this.options.limits.maxUris}) URIs to rewrite`);
    }
    const context = new RewriteContext(uri, href, url, tag, attribute, typeValue, kind, this.isMaster, this.hasMap, this.lineNumber, this.variables, this.isMaster ? undefined : this.mediaSequence + this.segments);
    const replacement = this.options.rewriteUri(context);
    if (typeof replacement !== 'string') {
      throw new TypeError(`options.rewriteUri must return a string, returned ${typeof replacement} for ${preview(uri)}`);
    }
    if (breaksLine(replacement, placement)) {
      throw new TypeError(
        `options.rewriteUri returned ${preview(replacement)}, which would break the playlist line: no CR or LF${placement === 'line' ? '' : placement === 'quoted' ? ' or double quote inside a quoted-string' : ', double quote or comma in an unquoted attribute'}`,
      );
    }
    this.account(data, start, end, replacement.length);
    this.output += data.slice(this.copied, start) + replacement;
    this.copied = end;
    this.stats.uris++;
    const key = tag ?? 'URI-LINE';
    this.stats.byTag[key] = (this.stats.byTag[key] ?? 0) + 1;
  }

  /** A URI that is not rewritten keeps its text, with its variables substituted (their definitions may be gone). */
  private keep(data: string, start: number, end: number, substituted: string): void {
    this.stats.skipped++;
    if (substituted === data.slice(start, end)) return;
    this.account(data, start, end, substituted.length);
    this.output += data.slice(this.copied, start) + substituted;
    this.copied = end;
  }

  private tooLong(lineNumber: number, length: number): never {
    throw new HlsRewriteError(
      'HLS_LINE_TOO_LONG',
      `line ${lineNumber} is longer than maxLineLength: expected at most ${this.options.maxLineLength} characters, received ${length} so far`,
    );
  }

  private warn(message: string): void {
    if (this.stats.warnings.length < MAX_WARNINGS) this.stats.warnings.push(message);
    else this.droppedWarnings++;
  }
}

/** `.json` → data, anything else → playlist: the preload `X-URI` repeats an asset list or an asset URI. */
function kindByExtension(path: string, queryAt: number): UriKind {
  const end = queryAt === -1 ? path.length : queryAt;
  return path.slice(Math.max(0, end - 5), end).toLowerCase() === '.json' ? 'data' : 'playlist';
}

/**
 * The context handed to the callback. `url` is built on first read from `href`, so a callback that
 * only needs the string (or nothing) costs no URL object per segment.
 */
class RewriteContext implements UriContext {
  #url: URL | undefined;
  constructor(
    readonly uri: string,
    readonly href: string,
    url: URL | undefined,
    readonly tag: string | undefined,
    readonly attribute: string | undefined,
    readonly type: string | undefined,
    readonly kind: UriKind,
    readonly isMaster: boolean,
    readonly hasMap: boolean,
    readonly lineNumber: number,
    readonly variables: ReadonlyMap<string, string> | undefined,
    readonly sequenceNumber: number | undefined,
  ) {
    this.#url = url;
  }

  get url(): URL {
    this.#url ??= new URL(this.href);
    return this.#url;
  }
}

/** Subject to variable substitution besides URIs (RFC 8216bis 4.3): quoted-strings and hexadecimal-sequences. */
function isSubstitutable(data: string, attribute: AttributeSpan): boolean {
  if (attribute.quoted) return true;
  const first = data.charCodeAt(attribute.valueStart + 1);
  return data.charCodeAt(attribute.valueStart) === 48 /* 0 */ && (first === 120 || first === 88) /* x X */;
}

/** A replacement must not end the line, close the quoted-string or start the next attribute. */
function breaksLine(replacement: string, placement: 'line' | 'quoted' | 'unquoted'): boolean {
  for (let index = 0; index < replacement.length; index++) {
    const code = replacement.charCodeAt(index);
    if (code > 44) continue;
    if (code === 10 || code === 13) return true;
    if (placement !== 'line' && (code === 34 /* " */ || (placement === 'unquoted' && code === 44))) return true;
  }
  return false;
}

function nameIs(data: string, attribute: AttributeSpan, name: string): boolean {
  return attribute.nameEnd - attribute.nameStart === name.length && data.startsWith(name, attribute.nameStart);
}

/**
 * Rewrites every URI of a playlist held in memory: each URI line and each URI-valued attribute of
 * every tag the table knows goes through `rewriteUri`; everything else is kept byte for byte
 * (tags, attribute order, comments, blank lines, LF or CRLF per line, a missing final newline).
 * A leading BOM (and whitespace before `#EXTM3U`) is dropped.
 *
 * @throws {HlsRewriteError} `HLS_NOT_A_PLAYLIST`, `HLS_INVALID_TEXT`, `HLS_LINE_TOO_LONG`, `HLS_TRUNCATED`, and a
 *   `RewriteLimitCode` when the playlist would make the rewrite pass one of the limit options.
 * @throws {TypeError} for invalid options or a callback that does not return a usable string.
 * @example
 * ```ts
 * const { text, stats } = rewritePlaylist('#EXTM3U\n#EXTINF:4,\nseg1.ts\n', {
 *   baseUrl: 'https://cdn.test/show/index.m3u8',
 *   rewriteUri: ({ url, kind }) => `/proxy/${kind}?u=${encodeURIComponent(String(url))}`,
 * });
 * // text === '#EXTM3U\n#EXTINF:4,\n/proxy/segment?u=https%3A%2F%2Fcdn.test%2Fshow%2Fseg1.ts\n'
 * // stats.byTag === { 'URI-LINE': 1 }
 * ```
 */
export function rewritePlaylist(text: string, options: RewriteOptions): { text: string; stats: RewriteStats } {
  const core = new RewriteCore(options);
  if (typeof text !== 'string') throw new TypeError(`rewritePlaylist expects the playlist as a string, received ${typeof text}`);
  if (!(text as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    throw new HlsRewriteError('HLS_INVALID_TEXT', 'playlist text holds a lone UTF-16 surrogate: expected text that encodes to UTF-8');
  }
  assertNoControlCharacters(text, 'in the input');
  // The text goes through the line machine in slices, and each slice's output is flattened right
  // away: one rope of a whole large playlist would keep every small piece alive until the end and
  // make the garbage collector copy them all (the rewrite ran at half speed that way).
  const parts: string[] = [];
  for (let offset = 0; offset < text.length; offset += STRING_SLICE) {
    const last = offset + STRING_SLICE >= text.length;
    parts.push(flatten(core.pushText(text.slice(offset, offset + STRING_SLICE), last)));
  }
  if (text.length === 0) parts.push(core.pushText('', true));
  return { text: parts.length === 1 ? parts[0]! : parts.join(''), stats: core.stats };
}

/**
 * The incremental rewriter that both streams share: push byte chunks split anywhere (inside a line,
 * between CR and LF, inside a UTF-8 sequence or a quoted attribute) and get output text as soon as
 * lines are complete. It holds at most one unfinished line (bounded by `maxLineLength`).
 * After an error or `end()`, every further call throws a `TypeError`.
 *
 * @example
 * ```ts
 * const rewriter = new PlaylistRewriter({ baseUrl: 'https://cdn.test/a/index.m3u8', rewriteUri: ({ kind }) => `${kind}.bin` });
 * const bytes = new TextEncoder().encode('#EXTM3U\n#EXTINF:4,\nseg1.ts\n');
 * let out = rewriter.push(bytes.subarray(0, 20)); // '#EXTM3U\n#EXTINF:4,\n'
 * out += rewriter.push(bytes.subarray(20));        // 'segment.bin\n'
 * out += rewriter.end();                           // ''
 * rewriter.stats.uris; // 1
 * ```
 */
export class PlaylistRewriter {
  readonly #core: RewriteCore;
  readonly #decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // the core drops the BOM, as for strings
  #bytes = 0;
  #closed = false;

  constructor(options: RewriteOptions) {
    this.#core = new RewriteCore(options);
  }

  /** What the rewrite saw so far. */
  get stats(): RewriteStats {
    return this.#core.stats;
  }

  /** Takes the next chunk of bytes and returns the output of every line completed by it. */
  push(chunk: Uint8Array): string {
    if (this.#closed) throw new TypeError('PlaylistRewriter.push() was called after end() or after an error');
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(`PlaylistRewriter.push() expects a Uint8Array, received ${typeof chunk}`);
    }
    try {
      let text: string;
      try {
        text = this.#decoder.decode(chunk, { stream: true });
      } catch (cause) {
        throw new HlsRewriteError(
          'HLS_INVALID_TEXT',
          `playlist bytes ${this.#bytes}-${this.#bytes + chunk.length} are not valid UTF-8: expected UTF-8 text (RFC 8216bis 4.1)`,
          { cause },
        );
      }
      assertNoControlCharacters(text, `in bytes ${this.#bytes}-${this.#bytes + chunk.length}`);
      this.#bytes += chunk.length;
      return this.#core.pushText(text, false);
    } catch (error) {
      this.#closed = true;
      throw error;
    }
  }

  /** Ends the input: returns the output of the last line (kept without a newline if it had none). */
  end(): string {
    if (this.#closed) throw new TypeError('PlaylistRewriter.end() was called after end() or after an error');
    this.#closed = true;
    let text: string;
    try {
      text = this.#decoder.decode();
    } catch (cause) {
      throw new HlsRewriteError('HLS_TRUNCATED', `the input ended inside a UTF-8 sequence after ${this.#bytes} bytes`, { cause });
    }
    return this.#core.pushText(text, true);
  }
}
