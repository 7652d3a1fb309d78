import { ELEMENT_RULES, MPD_NAMESPACE, PATCH_NAMESPACE, type ElementRule } from './elements';
import { DashRewriteError, preview } from './errors';
import { directoryOf, isPlainRelativePath, resolveHttpUrl } from './resolve';
import type { RewriteOptions, RewriteStats, UrlContext, UrlKind } from './types';
import { decodeAttributeValue, decodeContent, encodeAttributeValue, encodeContent } from './xml-text';
import { validateLimits } from '../../hls-rewrite/src/limits';

const DEFAULT_MAX_ELEMENT_LENGTH = 1024 * 1024;
const MAX_WARNINGS = 100;
/** Defaults of the limits on one manifest's work (see `RewriteOptions`). */
const DEFAULT_LIMITS = { maxUrls: 1_000_000, maxOutputLength: 64 * 1024 * 1024, maxOutputRatio: 64 } as const;
/** What the output may grow beyond `maxOutputRatio` times the input: room for a short manifest. */
const OUTPUT_RATIO_ALLOWANCE = 64 * 1024;

type RewriteLimits = { -readonly [Name in keyof typeof DEFAULT_LIMITS]: number };

/** A UTF-16 surrogate without its pair: not a character, cannot be encoded as UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Characters XML 1.0 forbids (§2.2), which only binary data holds. */
// eslint-disable-next-line no-control-regex -- the forbidden control characters are what this finds
const FORBIDDEN_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/** A base in effect: the upstream URL that references resolve against, and its counterpart in the output. */
interface Base {
  upstream: string;
  output: string;
  /** `upstream`'s directory, for references that resolve by concatenation. */
  directory: string;
}

function makeBase(upstream: string, output: string): Base {
  return { upstream, output, directory: directoryOf(upstream) };
}

/** RFC 3986 resolution against a base, by concatenation when that gives what the parser would. */
function resolveAgainst(reference: string, base: Base): string | undefined {
  return isPlainRelativePath(reference) ? base.directory + reference : resolveHttpUrl(reference, base.upstream);
}

/** One open element. */
interface Frame {
  qname: string;
  local: string;
  rule: ElementRule | undefined;
  /** Namespace prefixes this element declares (`''` is the default namespace). */
  bindings: Map<string, string> | undefined;
  /** The default namespace in scope inside it. */
  defaultNamespace: string | undefined;
  /** The base in effect where the element starts (its own `BaseURL` children resolve against it). */
  inherited: Base;
  /** The base in effect inside it: its first `BaseURL` child, else `inherited`. */
  base: Base;
  ownBase: boolean;
}

/** The text of a URL element (`BaseURL`, `Location`…) while it is read. */
interface Collection {
  frame: Frame;
  parts: string[];
  length: number;
  line: number;
}

interface AttributeSpan {
  name: string;
  valueStart: number;
  valueEnd: number;
  quote: '"' | "'";
}

const isSpace = (char: string | undefined) => char === ' ' || char === '\n' || char === '\t' || char === '\r';

function countNewlines(text: string, start: number, end: number): number {
  let count = 0;
  for (let index = text.indexOf('\n', start); index !== -1 && index < end; index = text.indexOf('\n', index + 1)) count++;
  return count;
}

function validateOptions(options: RewriteOptions): { base: string; output: string; max: number; limits: RewriteLimits } {
  if (options === null || typeof options !== 'object') throw new TypeError(`options must be an object, received ${typeof options}`);
  if (typeof options.rewriteUrl !== 'function') throw new TypeError(`options.rewriteUrl must be a function, received ${typeof options.rewriteUrl}`);
  const base = resolveHttpUrl(String(options.baseUrl), 'http://relative.invalid/');
  if (base === undefined || base.startsWith('http://relative.invalid/')) {
    throw new TypeError(`options.baseUrl must be an absolute http(s) URL, received ${preview(String(options.baseUrl))}`);
  }
  let output = base;
  if (options.outputUrl !== undefined) {
    try {
      output = new URL(String(options.outputUrl)).href;
    } catch {
      throw new TypeError(`options.outputUrl must be an absolute URL, received ${preview(String(options.outputUrl))}`);
    }
  }
  const max = options.maxElementLength ?? DEFAULT_MAX_ELEMENT_LENGTH;
  if (!Number.isInteger(max) || max < 64) throw new TypeError(`options.maxElementLength must be an integer of at least 64, received ${String(max)}`);
  return { base, output, max, limits: validateLimits(DEFAULT_LIMITS, options, ['maxOutputRatio']) };
}

/** The index after the first `close` from `from` on, or -1. */
function after(text: string, close: string, from: number): number {
  const at = text.indexOf(close, from);
  return at === -1 ? -1 : at + close.length;
}

/** Where the piece of markup at `start` ends (the index after it), or -1 when more input is needed. */
function markupEnd(text: string, start: number, from: number): number {
  const second = text.charCodeAt(start + 1);
  if (Number.isNaN(second)) return -1;
  if (second === 63 /* ? */) return after(text, '?>', Math.max(start + 2, from));
  if (second === 47 /* / */) return after(text, '>', Math.max(start + 2, from));
  if (second === 33 /* ! */) {
    if (text.startsWith('<!--', start)) return after(text, '-->', Math.max(start + 4, from));
    if (text.startsWith('<![CDATA[', start)) return after(text, ']]>', Math.max(start + 9, from));
    if (text.length - start < 9 && ('<![CDATA['.startsWith(text.slice(start)) || '<!--'.startsWith(text.slice(start)))) return -1;
    // A DOCTYPE (or another declaration): `>` outside quotes and outside an internal subset.
    return scanTag(text, start, true);
  }
  return scanTag(text, start, false);
}

/** The end of a start tag or declaration: the first `>` outside quotes (and brackets); a `<` there ends it early, malformed. */
function scanTag(text: string, start: number, declaration: boolean): number {
  let quote = 0;
  let depth = 0;
  for (let index = start + 1; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (quote !== 0) {
      // Inside a quoted value only its closing quote matters: jump to it.
      const close = text.indexOf(quote === 34 ? '"' : "'", index);
      if (close === -1) return -1;
      index = close;
      quote = 0;
    } else if (code === 34 || code === 39) {
      quote = code;
    } else if (code === 62 /* > */ && depth <= 0) {
      return index + 1;
    } else if (declaration && code === 91 /* [ */) {
      depth++;
    } else if (declaration && code === 93 /* ] */) {
      depth--;
    } else if (code === 60 /* < */ && !declaration) {
      return index;
    }
  }
  return -1;
}

const isSpaceCode = (code: number) => code === 32 || code === 10 || code === 9 || code === 13;

/** Offsets of a start tag's name and attribute values; undefined when it is not well-formed. */
function parseStartTag(tag: string): { name: string; attributes: AttributeSpan[]; selfClosing: boolean } | undefined {
  const length = tag.length;
  if (tag.charCodeAt(length - 1) !== 62 /* > */) return undefined;
  const selfClosing = tag.charCodeAt(length - 2) === 47 /* / */;
  const end = selfClosing ? length - 2 : length - 1;
  let index = 1;
  while (index < end && !isSpaceCode(tag.charCodeAt(index))) index++;
  const name = tag.slice(1, index);
  if (name === '' || name.includes('/')) return undefined;
  const attributes: AttributeSpan[] = [];
  for (;;) {
    const before = index;
    while (index < end && isSpaceCode(tag.charCodeAt(index))) index++;
    if (index === end) return { name, attributes, selfClosing };
    if (index === before) return undefined;
    const nameStart = index;
    let code = tag.charCodeAt(index);
    while (index < end && !isSpaceCode(code) && code !== 61 /* = */) code = tag.charCodeAt(++index);
    if (index === nameStart) return undefined;
    const attributeName = tag.slice(nameStart, index);
    while (index < end && isSpaceCode(tag.charCodeAt(index))) index++;
    if (tag.charCodeAt(index) !== 61) return undefined;
    index++;
    while (index < end && isSpaceCode(tag.charCodeAt(index))) index++;
    const quote = tag.charCodeAt(index);
    if (quote !== 34 && quote !== 39) return undefined;
    const valueEnd = tag.indexOf(quote === 34 ? '"' : "'", index + 1);
    if (valueEnd === -1 || valueEnd >= end) return undefined;
    const lt = tag.indexOf('<', index + 1);
    if (lt !== -1 && lt < valueEnd) return undefined;
    attributes.push({ name: attributeName, valueStart: index + 1, valueEnd, quote: quote === 34 ? '"' : "'" });
    index = valueEnd + 1;
  }
}

/**
 * The incremental core of every rewrite: input in pieces (bytes split anywhere, or decoded text),
 * output text as soon as each piece of markup is complete. Memory is bounded by the largest piece
 * of markup (a tag, a comment, a URL element), never by the document.
 *
 * @example
 * ```ts
 * const rewriter = new ManifestRewriter({ baseUrl: 'https://cdn.test/v/a.mpd', rewriteUrl: ({ href }) => `https://proxy.test/?u=${encodeURIComponent(href)}` });
 * let out = rewriter.push(new TextEncoder().encode('<MPD><BaseURL>x/</Bas'));
 * out += rewriter.push(new TextEncoder().encode('eURL></MPD>'));
 * out += rewriter.end();
 * // '<MPD><BaseURL>https://proxy.test/?u=https%3A%2F%2Fcdn.test%2Fv%2Fx%2F</BaseURL></MPD>'
 * ```
 */
export class ManifestRewriter {
  readonly stats: RewriteStats = { urls: 0, byElement: {}, skipped: 0, warnings: [] };
  readonly #rewriteUrl: RewriteOptions['rewriteUrl'];
  readonly #max: number;
  readonly #documentBase: Base;
  readonly #decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  readonly #stack: Frame[] = [];
  #pending = '';
  /** Where the search for the end of the pending markup resumes (a terminator cannot end earlier). */
  #resumeFrom = 0;
  #state: 'prolog' | 'root' | 'epilog' = 'prolog';
  #started = false;
  #ended = false;
  #line = 1;
  #collection: Collection | undefined;
  readonly #limits: RewriteLimits;
  // Input taken and output given so far, for the limits.
  #inputLength = 0;
  #outputLength = 0;

  constructor(options: RewriteOptions) {
    const { base, output, max, limits } = validateOptions(options);
    this.#rewriteUrl = options.rewriteUrl;
    this.#max = max;
    this.#limits = limits;
    this.#documentBase = makeBase(base, output);
  }

  /** Rewrites the next bytes (split anywhere, even inside a UTF-8 sequence); returns the output text that is complete. */
  push(chunk: Uint8Array): string {
    if (!(chunk instanceof Uint8Array)) throw new TypeError(`push expects a Uint8Array, received ${typeof chunk}`);
    let text: string;
    try {
      text = this.#decoder.decode(chunk, { stream: true });
    } catch (error) {
      throw new DashRewriteError('DASH_INVALID_TEXT', 'the manifest is not valid UTF-8', { cause: error });
    }
    return this.#feed(text);
  }

  /**
   * Rewrites the next decoded text (for callers that hold strings: do not mix with `push`).
   * A lone surrogate is `DASH_INVALID_TEXT`.
   */
  pushText(text: string): string {
    if (typeof text !== 'string') throw new TypeError(`pushText expects a string, received ${typeof text}`);
    if (LONE_SURROGATE.test(text)) throw new DashRewriteError('DASH_INVALID_TEXT', 'the manifest holds a lone surrogate (not valid Unicode text)');
    return this.#feed(text);
  }

  /** Ends the input: returns the rest of the output, or throws if the manifest is incomplete. */
  end(): string {
    let text: string;
    try {
      text = this.#decoder.decode();
    } catch (error) {
      throw new DashRewriteError('DASH_TRUNCATED', 'the manifest ends inside a UTF-8 sequence', { cause: error });
    }
    const output = this.#feed(text);
    this.#ended = true;
    if (this.#pending.length > 0) {
      throw new DashRewriteError('DASH_TRUNCATED', `the manifest ends inside markup: ${preview(this.#pending)}`);
    }
    if (this.#state === 'prolog') throw new DashRewriteError('DASH_NOT_A_MANIFEST', 'the input holds no MPD element');
    if (this.#state === 'root') {
      throw new DashRewriteError('DASH_TRUNCATED', `the manifest ends before </${this.#stack[this.#stack.length - 1]!.qname}>`);
    }
    return output;
  }

  #feed(input: string): string {
    if (this.#ended) throw new TypeError('the rewriter has ended: create another one');
    if (FORBIDDEN_CHARACTERS.test(input)) {
      const at = input.search(FORBIDDEN_CHARACTERS);
      throw new DashRewriteError('DASH_INVALID_TEXT', `the manifest holds the control character U+${input.charCodeAt(at).toString(16).padStart(4, '0')} (binary data?)`);
    }
    const text = this.#pending + input;
    this.#inputLength += input.length;
    const out: string[] = [];
    let index = 0;
    while (index < text.length) {
      if (text.charCodeAt(index) !== 60 /* < */) {
        const next = text.indexOf('<', index);
        const end = next === -1 ? text.length : next;
        const before = out.length;
        this.#text(text, index, end, out);
        this.#line += countNewlines(text, index, end);
        index = end;
        this.#account(out, before, this.#inputLength - (text.length - end));
        continue;
      }
      const end = markupEnd(text, index, index === 0 ? this.#resumeFrom : 0);
      if (end === -1) {
        if (text.length - index > this.#max) this.#tooLarge(text.slice(index));
        break;
      }
      if (end - index > this.#max) this.#tooLarge(text.slice(index, end));
      const markup = text.slice(index, end);
      const before = out.length;
      this.#markup(markup, out);
      this.#line += countNewlines(markup, 0, markup.length);
      index = end;
      this.#account(out, before, this.#inputLength - (text.length - end));
    }
    this.#pending = text.slice(index);
    // The terminators are at most 3 characters long: one could start in the last 2.
    this.#resumeFrom = Math.max(0, this.#pending.length - 2);
    return out.join('');
  }

  /**
   * Counts the output of one piece of markup (at most `maxElementLength` of input, so at most its
   * URLs' replacements) and stops the rewrite once the output passes a limit.
   */
  #account(out: readonly string[], from: number, input: number): void {
    for (let index = from; index < out.length; index++) this.#outputLength += out[index]!.length;
    const { maxOutputLength, maxOutputRatio } = this.#limits;
    if (this.#outputLength > maxOutputLength) {
      throw new DashRewriteError('DASH_OUTPUT_TOO_LARGE', `line ${this.#line}: the output is longer than maxOutputLength (${maxOutputLength} characters)`);
    }
    if (this.#outputLength > maxOutputRatio * input + OUTPUT_RATIO_ALLOWANCE) {
      throw new DashRewriteError('DASH_OUTPUT_AMPLIFIED', `line ${this.#line}: the output grew past maxOutputRatio (${maxOutputRatio}) times the ${input} characters of input read so far`);
    }
  }

  #tooLarge(markup: string): never {
    throw new DashRewriteError('DASH_ELEMENT_TOO_LARGE', `a piece of markup is longer than ${this.#max} characters (maxElementLength): ${preview(markup)}`);
  }

  #warn(message: string): void {
    if (this.stats.warnings.length < MAX_WARNINGS) this.stats.warnings.push(`line ${this.#line}: ${message}`);
  }

  #text(text: string, start: number, end: number, out: string[]): void {
    if (this.#collection !== undefined) {
      this.#collect(text.slice(start, end));
      return;
    }
    if (this.#state !== 'root') {
      let index = start;
      if (!this.#started && text.charCodeAt(index) === 0xfeff) index++;
      while (index < end && isSpace(text[index])) index++;
      if (index < end) {
        if (this.#state === 'prolog') throw new DashRewriteError('DASH_NOT_A_MANIFEST', `text before the root element: ${preview(text.slice(index, end))}`);
        throw new DashRewriteError('DASH_MALFORMED', `text after the root element: ${preview(text.slice(index, end))}`);
      }
    }
    this.#started = true;
    out.push(start === 0 && end === text.length ? text : text.slice(start, end));
  }

  #collect(piece: string): void {
    const collection = this.#collection!;
    collection.parts.push(piece);
    collection.length += piece.length;
    if (collection.length > this.#max) this.#tooLarge(collection.parts.join(''));
  }

  #markup(markup: string, out: string[]): void {
    this.#started = true;
    const second = markup[1];
    if (second === '?' || markup.startsWith('<!--') || markup.startsWith('<![CDATA[')) {
      if (this.#collection !== undefined) this.#collect(markup);
      else if (second === '!' && markup[2] === '[' && this.#state !== 'root') throw new DashRewriteError('DASH_MALFORMED', 'a CDATA section outside the root element');
      else out.push(markup);
      return;
    }
    if (second === '!') {
      if (this.#state !== 'prolog') throw new DashRewriteError('DASH_MALFORMED', `a declaration inside the document: ${preview(markup)}`);
      out.push(markup);
      return;
    }
    if (second === '/') {
      this.#endTag(markup, out);
      return;
    }
    this.#startTag(markup, out);
  }

  #endTag(markup: string, out: string[]): void {
    const name = markup.slice(2, -1).trimEnd();
    const frame = this.#stack.pop();
    if (frame === undefined || frame.qname !== name) {
      throw new DashRewriteError('DASH_MALFORMED', `</${name}> closes ${frame === undefined ? 'nothing' : `<${frame.qname}>`}`);
    }
    if (this.#collection?.frame === frame) this.#finishCollection(out);
    out.push(markup);
    if (this.#stack.length === 0) this.#state = 'epilog';
  }

  #startTag(markup: string, out: string[]): void {
    const parsed = parseStartTag(markup);
    if (parsed === undefined) throw new DashRewriteError('DASH_MALFORMED', `a start tag that is not well-formed: ${preview(markup)}`);
    if (this.#state === 'epilog') throw new DashRewriteError('DASH_MALFORMED', `a second root element <${parsed.name}>`);
    if (this.#collection !== undefined) {
      // A URL element holding an element: not a URL, kept as it is.
      this.#warn(`<${this.#collection.frame.qname}> holds an element; its text is kept as it is`);
      this.stats.skipped++;
      out.push(this.#collection.parts.join(''));
      this.#collection = undefined;
    }

    let bindings: Map<string, string> | undefined;
    for (const attribute of parsed.attributes) {
      if (attribute.name === 'xmlns' || attribute.name.startsWith('xmlns:')) {
        bindings ??= new Map();
        const value = decodeAttributeValue(markup.slice(attribute.valueStart, attribute.valueEnd)) ?? '';
        bindings.set(attribute.name === 'xmlns' ? '' : attribute.name.slice(6), value);
      }
    }
    const colon = parsed.name.indexOf(':');
    const prefix = colon === -1 ? '' : parsed.name.slice(0, colon);
    const local = parsed.name.slice(colon + 1);
    const parent = this.#stack[this.#stack.length - 1];
    const defaultNamespace = bindings?.get('') ?? parent?.defaultNamespace;
    const namespace = prefix === '' ? defaultNamespace : this.#namespace(prefix, bindings);
    const isDash = namespace === MPD_NAMESPACE || namespace === PATCH_NAMESPACE || (namespace === undefined && prefix === '') || namespace === '';

    if (this.#state === 'prolog') {
      if (!isDash || (local !== 'MPD' && local !== 'Patch')) {
        throw new DashRewriteError('DASH_NOT_A_MANIFEST', `the root element is <${parsed.name}>${namespace ? ` in ${preview(namespace)}` : ''}, not an MPD`);
      }
      this.#state = 'root';
    }

    const inherited = parent?.base ?? this.#documentBase;
    const rule = isDash ? ELEMENT_RULES.get(local) : undefined;
    const frame: Frame = { qname: parsed.name, local, rule, bindings, defaultNamespace, inherited, base: inherited, ownBase: false };

    let tag = markup;
    if (rule?.attributes !== undefined) tag = this.#rewriteAttributes(markup, parsed.attributes, frame);
    else if (isDash && markup.includes('xlink:href')) {
      for (const attribute of parsed.attributes) {
        if (attribute.name === 'xlink:href') this.#warn(`<${parsed.name} xlink:href> (a remote element) is kept as it is`);
      }
    }
    out.push(tag);
    if (parsed.selfClosing) {
      if (this.#stack.length === 0) this.#state = 'epilog';
      return;
    }
    this.#stack.push(frame);
    if (rule?.textKind !== undefined) this.#collection = { frame, parts: [], length: 0, line: this.#line };
  }

  #namespace(prefix: string, own: Map<string, string> | undefined): string | undefined {
    if (prefix === 'xml') return 'http://www.w3.org/XML/1998/namespace';
    const found = own?.get(prefix);
    if (found !== undefined) return found;
    for (let index = this.#stack.length - 1; index >= 0; index--) {
      const bound = this.#stack[index]!.bindings?.get(prefix);
      if (bound !== undefined) return bound;
    }
    return undefined;
  }

  #rewriteAttributes(markup: string, attributes: readonly AttributeSpan[], frame: Frame): string {
    const rules = frame.rule!.attributes!;
    let output = '';
    let from = 0;
    for (const attribute of attributes) {
      let rule: (typeof rules)[number] | undefined;
      for (const candidate of rules) if (candidate.attribute === attribute.name) rule = candidate;
      if (rule === undefined) continue;
      const raw = markup.slice(attribute.valueStart, attribute.valueEnd);
      const value = decodeAttributeValue(raw);
      if (value === undefined) {
        this.stats.skipped++;
        this.#warn(`${frame.local}@${attribute.name} holds an undecodable reference; kept as it is`);
        continue;
      }
      const uri = value.trim();
      if (uri === '' || (frame.local === 'SegmentTemplate' && attribute.name === 'bitstreamSwitching' && (uri === 'true' || uri === 'false'))) continue;
      const replacement = this.#rewriteOne(uri, frame, rule.kind, attribute.name, frame.base);
      if (replacement === undefined || replacement === uri) continue;
      output += markup.slice(from, attribute.valueStart) + encodeAttributeValue(replacement, attribute.quote);
      from = attribute.valueEnd;
    }
    return from === 0 ? markup : output + markup.slice(from);
  }

  #finishCollection(out: string[]): void {
    const collection = this.#collection!;
    this.#collection = undefined;
    const { frame } = collection;
    const raw = collection.parts.join('');
    const value = decodeContent(raw);
    if (value === undefined) {
      this.stats.skipped++;
      this.#warn(`<${frame.qname}> holds an undecodable reference; kept as it is`);
      out.push(raw);
      return;
    }
    const uri = value.trim();
    const parent = this.#stack[this.#stack.length - 1];
    const isBase = frame.rule!.textKind === 'base';
    // A BaseURL resolves against the base its parent inherited; its siblings are alternatives.
    const base = isBase ? (parent?.inherited ?? this.#documentBase) : frame.base;
    const replacement = uri === '' ? undefined : this.#rewriteOne(uri, frame, frame.rule!.textKind!, undefined, base, collection.line);
    if (replacement === undefined || replacement === uri) out.push(raw);
    else {
      const leading = /^[ \t\r\n]*/.exec(raw)![0];
      const trailing = /[ \t\r\n]*$/.exec(raw)![0];
      out.push(leading + encodeContent(replacement) + trailing);
    }
    if (isBase && parent !== undefined && !parent.ownBase && uri !== '') {
      const upstream = resolveAgainst(uri, base);
      if (upstream === undefined) return;
      let output = base.output;
      try {
        output = new URL(replacement ?? uri, base.output).href;
      } catch {
        this.#warn(`the replacement of <${frame.qname}> is not a URL; the output base stays ${preview(output, 80)}`);
      }
      parent.base = makeBase(upstream, output);
      parent.ownBase = true;
    }
  }

  /** Hands one URL to the callback; the replacement, or undefined when the URL is kept (other scheme, unparsable). */
  #rewriteOne(uri: string, frame: Frame, kind: UrlKind, attribute: string | undefined, base: Base, line = this.#line): string | undefined {
    const href = resolveAgainst(uri, base);
    if (href === undefined) {
      this.stats.skipped++;
      if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri) || /^https?:/i.test(uri)) this.#warn(`${preview(uri)} is not a URL; kept as it is`);
      return undefined;
    }
    if (this.stats.urls >= this.#limits.maxUrls) {
      throw new DashRewriteError('DASH_TOO_MANY_URLS', `line ${line}: the manifest has more than maxUrls (${this.#limits.maxUrls}) URLs to rewrite`);
    }
    const context: UrlContext = {
      uri,
      href,
      base: base.upstream,
      outputBase: base.output,
      element: frame.local,
      attribute,
      kind,
      template: frame.rule?.template === true,
      lineNumber: line,
    };
    const replacement = this.#rewriteUrl(context);
    if (typeof replacement !== 'string') throw new TypeError(`rewriteUrl must return a string, returned ${typeof replacement}`);
    this.stats.urls++;
    const key = attribute === undefined ? frame.local : `${frame.local}@${attribute}`;
    this.stats.byElement[key] = (this.stats.byElement[key] ?? 0) + 1;
    return replacement;
  }
}

/**
 * Rewrites a manifest held in memory: every URL goes through `rewriteUrl`, everything else is kept
 * byte for byte. Throws {@link DashRewriteError} on bad input.
 *
 * @example
 * ```ts
 * const { text } = rewriteManifest(
 *   '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period><BaseURL>v1/</BaseURL></Period></MPD>',
 *   { baseUrl: 'https://cdn.test/show/a.mpd', rewriteUrl: ({ href }) => `https://proxy.test/?u=${encodeURIComponent(href)}` },
 * );
 * // '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period><BaseURL>https://proxy.test/?u=https%3A%2F%2Fcdn.test%2Fshow%2Fv1%2F</BaseURL></Period></MPD>'
 * ```
 */
export function rewriteManifest(text: string, options: RewriteOptions): { text: string; stats: RewriteStats } {
  if (typeof text !== 'string') throw new TypeError(`rewriteManifest expects a string, received ${typeof text}`);
  const rewriter = new ManifestRewriter(options);
  const output = rewriter.pushText(text) + rewriter.end();
  return { text: output, stats: rewriter.stats };
}
