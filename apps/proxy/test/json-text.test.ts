import { describe, expect, test } from 'vitest';
import { parseJsonText } from '../src/json-text';

describe('parseJsonText: JSON errors by line and column', () => {
  test.each([
    ['{\n  "a": 1,\n}', 3, 1, `expected a "quoted" property name at line 3, column 1, found "}"`],
    ['{"a" 1}', 1, 6, `expected ':' after the property name at line 1, column 6, found "1"`],
    ['[1, 2', 1, 6, `expected ',' or ']' at line 1, column 6, found the end of the file`],
    ['{"url": "http://cdn/x?token=abc\n"}', 1, 32, 'expected no control character inside a string (escape it) at line 1, column 32, found "\\n"'],
    ['{"a": tru}', 1, 7, 'expected a value (object, array, string, number, true, false or null) at line 1, column 7, found "t"'],
    ['{"a": 01}', 1, 8, `expected ',' or '}' at line 1, column 8, found "1"`],
    ['{} {}', 1, 4, 'expected the end of the document at line 1, column 4, found "{"'],
    ['', 1, 1, 'expected a value (object, array, string, number, true, false or null) at line 1, column 1, found the end of the file'],
    ['"\\x"', 1, 2, 'expected a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX) at line 1, column 2, found "\\\\"'],
  ])('parseJsonText(%j) stops at line %i, column %i', (text, line, column, message) => {
    const parsed = parseJsonText(text);
    expect(parsed).toEqual({ ok: false, problem: { line, column, message } });
  });

  test('valid JSON, with or without a BOM, parses as JSON.parse does', () => {
    const text = '{"entries": [{"a": [1, -2.5e3, true, null, "\\u00e9\\n"]}]}';
    expect(parseJsonText(text)).toEqual({ ok: true, value: JSON.parse(text) });
    expect(parseJsonText(`\uFEFF${text}`)).toEqual({ ok: true, value: JSON.parse(text) });
  });

  test('a message quotes one character of the text at most (a file may hold tokens)', () => {
    const parsed = parseJsonText('{"url": "https://cdn.example/v.m3u8?token=SECRET-TOKEN" oops}');
    expect(parsed.ok).toBe(false);
    expect(JSON.stringify(parsed)).not.toContain('SECRET');
  });
});
