// isStrictBase64 is a loop over a table for speed; it must accept exactly the language of the regular expression
// that states the rule (padded standard base64, PROTOCOL.md §3), on strings near the edge as well as random ones.
import { describe, expect } from 'vitest';
import { test, fc } from '@fast-check/vitest';
import { isStrictBase64 } from './chunk-payload.ts';

const RULE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const nearBase64 = fc
  .array(fc.constantFrom('A', 'z', '0', '+', '/', '=', '-', '_', ' ', '\n', 'é', '\u0000'), { maxLength: 16 })
  .map((chars) => chars.join(''));

describe('isStrictBase64', () => {
  test.prop([fc.oneof(nearBase64, fc.string({ maxLength: 16 }), fc.base64String({ maxLength: 40 }))])(
    'accepts exactly what the rule accepts',
    (text) => {
      expect(isStrictBase64(text)).toBe(RULE.test(text));
    },
  );

  test.prop([fc.uint8Array({ maxLength: 64 })])('accepts what Buffer encodes', (bytes) => {
    expect(isStrictBase64(Buffer.from(bytes).toString('base64'))).toBe(true);
  });

  test.each(['', 'QQ==', 'QUI=', 'QUJD', '+/+/'])('accepts %j', (text) => expect(isStrictBase64(text)).toBe(true));
  test.each(['=', 'Q===', '====', 'QQ=A', 'Q=Q=', 'QUJ', 'QUJD=', '-_-_', 'QU I', 'QUJD\n'])('refuses %j', (text) =>
    expect(isStrictBase64(text)).toBe(false),
  );
});
