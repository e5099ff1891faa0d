import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { redactText, redactUrl } from './redact.ts';

describe('redactUrl', () => {
  const table: [string, string][] = [
    ['postgres://postgres:s3cret@127.0.0.1:5432/test', 'postgres://postgres:***@127.0.0.1:5432/test'],
    ['postgresql://u:s3cret@db.example.com/app', 'postgresql://u:***@db.example.com/app'],
    ['postgres://postgres@127.0.0.1:5432/test', 'postgres://postgres@127.0.0.1:5432/test'],
    ['postgres://127.0.0.1/test', 'postgres://127.0.0.1/test'],
    ['postgres://u@h/db?password=s3cret&sslmode=require', 'postgres://u@h/db?password=***&sslmode=require'],
    ['postgres://u:s3cret@h/db?sslpassword=k3y', 'postgres://u:***@h/db?sslpassword=***'],
    ['mqtt://user:s3cret@127.0.0.1:1883', 'mqtt://user:***@127.0.0.1:1883'],
    ['mqtts://user:s3cret@broker.example.com', 'mqtts://user:***@broker.example.com'],
    ['ws://:s3cret@h:8080/mqtt', 'ws://:***@h:8080/mqtt'],
    ['wss://u:s3cret@h/mqtt?token=abc123', 'wss://u:***@h/mqtt?token=***'],
    ['mqtt://127.0.0.1:1883', 'mqtt://127.0.0.1:1883'],
    ['postgres://u:p%40ss@h/db', 'postgres://u:***@h/db'],
    // Not WHATWG URLs (a bad port, a space), still masked by pattern.
    ['postgres://u:s3cret@h:notaport/db', 'postgres://u:***@h:notaport/db'],
    ['notaurl', 'notaurl'],
  ];
  test.each(table)('%s → %s', (url, shown) => expect(redactUrl(url)).toBe(shown));
});

describe('redactText', () => {
  test('masks every URL in a message and leaves the rest', () => {
    expect(
      redactText(
        'cannot connect to mqtt://u:s3cret@h:1883 (via postgres://p:s3cret@h/db?password=s3cret&sslmode=require): refused',
      ),
    ).toBe('cannot connect to mqtt://u:***@h:1883 (via postgres://p:***@h/db?password=***&sslmode=require): refused');
  });

  test('masks a known password even where no URL surrounds it', () => {
    expect(redactText('auth failed for "s3cret" (p%40ss)', ['postgres://u:s3cret@h/db', 'mqtt://u:p%40ss@h'])).toBe(
      'auth failed for "***" (***)',
    );
    expect(redactText('password p@ss rejected', ['mqtt://u:p%40ss@h'])).toBe('password *** rejected');
  });

  test('text without secrets is unchanged', () => {
    const text = 'pipeline: subscribed at mqtt://127.0.0.1:1883 as p1; postgres://h:5432/db; a:b@c';
    expect(redactText(text, [undefined, 'postgres://u@h/db'])).toBe(text);
  });
});

// Any password of the URL shapes camfleet takes, in a URL or in text around one, never survives redaction.
const password = fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=@-]{3,24}$/).filter((p) => p !== '***');
const shape = fc.record({
  scheme: fc.constantFrom('postgres', 'postgresql', 'mqtt', 'mqtts', 'ws', 'wss'),
  user: fc.constantFrom('', 'postgres', 'user.name'),
  host: fc.constantFrom('127.0.0.1', 'db.example.com', '[::1]'),
  port: fc.constantFrom('', ':5432', ':1883'),
  path: fc.constantFrom('', '/test', '/mqtt'),
  query: fc.constantFrom('', '?sslmode=require', '?password=PW', '?a=1&token=PW'),
});

test.prop([password, shape, fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })])(
  'no password survives, in a URL or in text around it',
  (pw, s, before, after) => {
    const encoded = encodeURIComponent(pw);
    const url = `${s.scheme}://${s.user}:${encoded}@${s.host}${s.port}${s.path}${s.query.replace('PW', encoded)}`;
    // A password that also spells part of the user, host or text around it ("ame" in "user.name") cannot be told
    // from them: what must vanish is the secret, not every occurrence of its letters.
    const elsewhere = `${s.scheme}://${s.user}:@${s.host}${s.port}${s.path}${s.query} ${before} ${after} ***`;
    fc.pre(!elsewhere.includes(pw) && !elsewhere.includes(encoded));
    const shownUrl = redactUrl(url);
    expect(shownUrl).not.toContain(encoded);
    expect(shownUrl).toContain(`${s.user}:***@`);
    const shownText = redactText(`${before} ${url} ${after}`, [url]);
    expect(shownText).not.toContain(encoded);
    expect(shownText).not.toContain(pw);
  },
);
