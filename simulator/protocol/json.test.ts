import { describe, expect, it } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { escapeSmartQuotes, parseJsonPayload, repairSmartQuotes } from './json.ts';

describe('parseJsonPayload', () => {
  it('parses an object from text or UTF-8 bytes', () => {
    expect(parseJsonPayload('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonPayload(new TextEncoder().encode('{"é":"ü"}'))).toEqual({ ok: true, value: { é: 'ü' } });
  });

  it('repairs double and single curly quotes, as the original server did', () => {
    expect(parseJsonPayload('{\u201cstatus\u201d:\u201cAlive\u201d}')).toEqual({
      ok: true,
      value: { status: 'Alive' },
    });
    expect(parseJsonPayload('{\u2018status\u2019:\u2018Alive\u2019}')).toEqual({
      ok: true,
      value: { status: 'Alive' },
    });
    expect(repairSmartQuotes('\u201c\u201d\u2018\u2019')).toBe('""""');
  });

  it.each([
    ['not json at all', 'not_json'],
    ['', 'not_json'],
    ['{"a":1', 'not_json'],
    ['[1,2]', 'not_object'],
    ['null', 'not_object'],
    ['42', 'not_object'],
    ['"text"', 'not_object'],
  ])('%j → %s', (text, code) => {
    const r = parseJsonPayload(text);
    expect(r.ok ? undefined : r.error.code).toBe(code);
  });

  it('invalid UTF-8 is not_json', () => {
    const r = parseJsonPayload(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    expect(r.ok ? undefined : r.error.code).toBe('not_json');
  });

  test.prop([fc.oneof(fc.string({ unit: 'binary' }), fc.uint8Array())])('never throws', (input) => {
    const r = parseJsonPayload(input);
    expect(r.ok || ['not_json', 'not_object'].includes(r.error.code)).toBe(true);
  });

  test.prop([fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }))])(
    'escaped curly quotes survive the repair',
    (obj) => {
      expect(parseJsonPayload(escapeSmartQuotes(JSON.stringify(obj)))).toEqual({ ok: true, value: obj });
    },
  );
});
