// MQTT 3.1.1 topic names, topic filters and how they match (§4.7), for the in-memory router. Pure functions; the
// router calls them on every publish and subscribe.

/** §4.7.3: at least one character; §1.5.3 [MQTT-1.5.3-2]: no U+0000. */
function wellFormed(text: string): boolean {
  return text.length > 0 && !text.includes('\u0000');
}

/** A topic name a client may PUBLISH to: no wildcard characters (§3.3.2.1 [MQTT-3.3.2-2]). */
export function isValidTopicName(topic: string): boolean {
  return wellFormed(topic) && !topic.includes('+') && !topic.includes('#');
}

/**
 * A topic filter a client may SUBSCRIBE with: `+` occupies a whole level (§4.7.1.3 [MQTT-4.7.1-3]); `#` is on its
 * own or after a `/`, and last (§4.7.1.2 [MQTT-4.7.1-2]).
 */
export function isValidTopicFilter(filter: string): boolean {
  if (!wellFormed(filter)) return false;
  const levels = filter.split('/');
  return levels.every((level, i) => {
    if (level === '#') return i === levels.length - 1;
    if (level === '+') return true;
    return !level.includes('+') && !level.includes('#');
  });
}

/** True when the filter has a wildcard, i.e. it cannot be looked up by topic name alone. */
export function hasWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

/**
 * Whether a (valid) topic filter matches a (valid) topic name.
 * - `+` matches exactly one level, an empty one included: `a/+` matches `a/` (§4.7.1.3).
 * - `#` matches its parent and any number of levels below: `a/#` matches `a`, `a/b`, `a/b/c` (§4.7.1.2).
 * - A filter starting with a wildcard never matches a topic starting with `$` (§4.7.2 [MQTT-4.7.2-1]), so `#` does
 *   not see `$SYS/...`, while `$SYS/#` does.
 * - Case-sensitive, no normalisation (§4.7.3).
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    const actual = t[i];
    if (actual === undefined) return false;
    if (level !== '+' && level !== actual) return false;
  }
  return f.length === t.length;
}
