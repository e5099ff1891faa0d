// MQTT 3.1.1 §4.7 topic filters, with the spec's own examples, and a brute-force restatement of matching.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { SubscriptionIndex, type QoS } from './subscription-index.ts';
import { isValidTopicFilter, isValidTopicName, topicMatches } from './topic-match.ts';

describe('topicMatches', () => {
  test.each([
    // §4.7.1.2: '#' matches its parent and any number of levels below
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
    ['sport/#', 'sport', true],
    ['#', 'sport/tennis', true],
    ['sport/#', 'sports', false],
    // §4.7.1.3: '+' is exactly one level, an empty one included
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['+/tennis/#', 'sport/tennis/player1', true],
    // §4.7.2: wildcards at the first level do not see '$' topics; an explicit '$' level does
    ['#', '$SYS/broker/uptime', false],
    ['+/broker/uptime', '$SYS/broker/uptime', false],
    ['$SYS/#', '$SYS/broker/uptime', true],
    ['$SYS/+/uptime', '$SYS/broker/uptime', true],
    ['a/#', 'a/$b', true],
    // §4.7.3: exact, case-sensitive, '/' significant
    ['ESP32CAM/AABB/data', 'ESP32CAM/AABB/data', true],
    ['esp32cam/AABB/data', 'ESP32CAM/AABB/data', false],
    ['a/b', 'a/b/', false],
  ])('%s vs %s → %s', (filter, topic, expected) => {
    expect(isValidTopicFilter(filter)).toBe(true);
    expect(isValidTopicName(topic)).toBe(true);
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('validity', () => {
  test.each(['sport/tennis#', 'sport/#/ranking', 'sport+', 'sp+rt/x', '', 'a\u0000b', '##'])(
    'invalid filter %j',
    (filter) => expect(isValidTopicFilter(filter)).toBe(false),
  );
  test.each(['+', '#', '+/+/#', '/', 'a//b', '$SYS/#'])('valid filter %j', (filter) =>
    expect(isValidTopicFilter(filter)).toBe(true),
  );
  test.each(['a/+', 'a/#', '', 'x\u0000'])('invalid topic name %j', (topic) =>
    expect(isValidTopicName(topic)).toBe(false),
  );
});

// A filter/topic alphabet small enough that matches are common.
const level = fc.constantFrom('a', 'b', '', '$x');
const topicArb = fc
  .array(level, { minLength: 1, maxLength: 4 })
  .map((ls) => ls.join('/'))
  .filter(isValidTopicName);
const filterArb = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', '', '+', '$x'), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([ls, hash]) => (hash ? [...ls, '#'] : ls).join('/'))
  .filter(isValidTopicFilter);

/** §4.7 restated as a regular expression over the levels. */
function byRegex(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && /^[+#]/.test(filter)) return false;
  const body = filter
    .split('/')
    .map((l) => (l === '+' ? '[^/]*' : l === '#' ? null : l.replace(/\$/g, '\\$')))
    .reduce<string>((acc, part, i) => {
      if (part === null) return i === 0 ? '.*' : `${acc}(/.*)?`;
      return i === 0 ? part : `${acc}/${part}`;
    }, '');
  return new RegExp(`^${body}$`).test(topic);
}

test('property: matching agrees with a regular-expression restatement', () => {
  fc.assert(
    fc.property(filterArb, topicArb, (filter, topic) => {
      expect(topicMatches(filter, topic)).toBe(byRegex(filter, topic));
    }),
    { numRuns: 2000 },
  );
});

test('property: the subscription index finds exactly the matching sessions, at their highest QoS', () => {
  const subsArb = fc.array(fc.array(fc.tuple(filterArb, fc.constantFrom<QoS>(0, 1)), { maxLength: 3 }), {
    maxLength: 4,
  });
  fc.assert(
    fc.property(subsArb, fc.array(fc.nat(11), { maxLength: 4 }), topicArb, (subs, removals, topic) => {
      const index = new SubscriptionIndex<{ seq: number; subscriptions: Map<string, QoS> }>();
      const sessions = subs.map((_, seq) => ({ seq, subscriptions: new Map<string, QoS>() }));
      subs.forEach((list, i) => list.forEach(([f, q]) => index.add(sessions[i]!, f, q)));
      for (const r of removals) {
        const s = sessions[r % Math.max(1, sessions.length)];
        const f = s && [...s.subscriptions.keys()][r % 3];
        if (s && f !== undefined) index.remove(s, f);
      }
      const expected = sessions.flatMap((s) => {
        const qs = [...s.subscriptions].filter(([f]) => topicMatches(f, topic)).map(([, q]) => q);
        return qs.length > 0 ? [{ seq: s.seq, qos: Math.max(...qs) }] : [];
      });
      expect(index.matching(topic).map((m) => ({ seq: m.session.seq, qos: m.qos }))).toEqual(expected);
    }),
    { numRuns: 500 },
  );
});
