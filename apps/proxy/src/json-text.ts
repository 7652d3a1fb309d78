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
 * Finds the first syntax error of a text that `JSON.parse` refused. V8's own messages give a
 * position for some errors only, and quote the text around it (a resolver file's URLs may carry
 * tokens), so the grammar of RFC 8259 is walked here instead.
 */
function firstSyntaxError(text: string): JsonStop {
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i += 1;
  };
  const expect = (char: string, what: string) => {
    if (text[i] !== char) throw new JsonStop(i, what);
    i += 1;
  };
  const string = (what: string) => {
    expect('"', what);
    for (;;) {
      if (i >= text.length) throw new JsonStop(i, 'a closing "');
      const char = text[i]!;
      if (char === '"') {
        i += 1;
        return;
      }
      if (char < ' ') throw new JsonStop(i, 'no control character inside a string (escape it)');
      if (char === '\\') {
        const escaped = text[i + 1];
        if (escaped === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new JsonStop(i, 'four hex digits after \\u');
          i += 6;
        } else if (escaped !== undefined && '"\\/bfnrt'.includes(escaped)) i += 2;
        else throw new JsonStop(i, 'a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
      } else i += 1;
    }
  };
  const value = (): void => {
    space();
    const char = text[i];
    if (char === '{') {
      i += 1;
      space();
      if (text[i] === '}') {
        i += 1;
        return;
      }
      for (;;) {
        space();
        string('a "quoted" property name');
        space();
        expect(':', "':' after the property name");
        value();
        space();
        if (text[i] === ',') i += 1;
        else return expect('}', "',' or '}'");
      }
    }
    if (char === '[') {
      i += 1;
      space();
      if (text[i] === ']') {
        i += 1;
        return;
      }
      for (;;) {
        value();
        space();
        if (text[i] === ',') i += 1;
        else return expect(']', "',' or ']'");
      }
    }
    if (char === '"') return string('a string');
    const number = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    number.lastIndex = i;
    if (char !== undefined && /[-\d]/.test(char)) {
      if (!number.test(text)) throw new JsonStop(i, 'a number');
      i = number.lastIndex;
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    throw new JsonStop(i, 'a value (object, array, string, number, true, false or null)');
  };
  try {
    value();
    space();
    if (i < text.length) throw new JsonStop(i, 'the end of the document');
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
