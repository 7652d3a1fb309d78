/** Where a JSON text stops being JSON: 1-based line and column, and what was expected there. */
export interface JsonSyntaxProblem {
  line: number;
  column: number;
  /** `expected ',' or '}' at line 3, column 14, found "x"`: quotes one character of the text at most. */
  message: string;
}

export type JsonParse = { ok: true; value: unknown } | { ok: false; problem: JsonSyntaxProblem };

class JsonStop {
  constructor(readonly offset: number, readonly expected: string) {}
}

/**
 * Walks the grammar of RFC 8259 to find where a text that `JSON.parse` refused stops being JSON.
 * V8's own messages give a position for some errors only, and quote the text around it (a
 * resolver file's URLs may carry tokens).
 */
class JsonScanner {
  i = 0;
  constructor(readonly text: string) {}

  space(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i]!)) this.i += 1;
  }

  expect(char: string, what: string): void {
    if (this.text[this.i] !== char) throw new JsonStop(this.i, what);
    this.i += 1;
  }

  string(what: string): void {
    this.expect('"', what);
    for (;;) {
      if (this.i >= this.text.length) throw new JsonStop(this.i, 'a closing "');
      const char = this.text[this.i]!;
      if (char === '"') {
        this.i += 1;
        return;
      }
      if (char < ' ') throw new JsonStop(this.i, 'no control character inside a string (escape it)');
      this.i += char === '\\' ? this.escape() : 1;
    }
  }

  /** The length of the escape sequence at the cursor. */
  escape(): number {
    const escaped = this.text[this.i + 1];
    if (escaped === 'u') {
      if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.i + 2, this.i + 6))) throw new JsonStop(this.i, 'four hex digits after \\u');
      return 6;
    }
    if (escaped !== undefined && '"\\/bfnrt'.includes(escaped)) return 2;
    throw new JsonStop(this.i, 'a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
  }

  /** The members of an object or the elements of an array, after its opening bracket. */
  members(close: '}' | ']', member: () => void): void {
    this.i += 1;
    this.space();
    if (this.text[this.i] === close) {
      this.i += 1;
      return;
    }
    for (;;) {
      member();
      this.space();
      if (this.text[this.i] !== ',') return this.expect(close, `',' or '${close}'`);
      this.i += 1;
    }
  }

  value(): void {
    this.space();
    const char = this.text[this.i];
    if (char === '{') {
      return this.members('}', () => {
        this.space();
        this.string('a "quoted" property name');
        this.space();
        this.expect(':', "':' after the property name");
        this.value();
      });
    }
    if (char === '[') return this.members(']', () => this.value());
    if (char === '"') return this.string('a string');
    if (char !== undefined && /[-\d]/.test(char)) return this.number();
    const literal = ['true', 'false', 'null'].find((word) => this.text.startsWith(word, this.i));
    if (literal === undefined) throw new JsonStop(this.i, 'a value (object, array, string, number, true, false or null)');
    this.i += literal.length;
  }

  number(): void {
    const number = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    number.lastIndex = this.i;
    if (!number.test(this.text)) throw new JsonStop(this.i, 'a number');
    this.i = number.lastIndex;
  }
}

/** Where a text that `JSON.parse` refused stops being JSON. */
function firstSyntaxError(text: string): JsonStop {
  const scanner = new JsonScanner(text);
  try {
    scanner.value();
    scanner.space();
    if (scanner.i < text.length) throw new JsonStop(scanner.i, 'the end of the document');
  } catch (error) {
    if (error instanceof JsonStop) return error;
    throw error;
  }
  // JSON.parse refused what this walk accepts: report the end rather than nothing.
  return new JsonStop(text.length, 'valid JSON');
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i += 1) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Parses a JSON document (a leading UTF-8 BOM is allowed); a syntax error comes back as data with
 * its line and column, and quotes at most the one character found there.
 *
 * @example
 * parseJsonText('{\n  "a": 1,\n}')
 * // { ok: false, problem: { line: 3, column: 1, message: `expected a "quoted" property name at line 3, column 1, found "}"` } }
 */
export function parseJsonText(text: string): JsonParse {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    const stop = firstSyntaxError(body);
    const { line, column } = lineAndColumn(body, stop.offset);
    const found = stop.offset >= body.length ? 'the end of the file' : JSON.stringify(body[stop.offset]);
    return { ok: false, problem: { line, column, message: `expected ${stop.expected} at line ${line}, column ${column}, found ${found}` } };
  }
}
