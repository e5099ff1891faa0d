// Stored names for a wire image name (ARCHITECTURE.md §3 "Name reuse"). After a flash-counter reset a device
// reuses `image_<N>.jpg` for a different picture; the new capture is stored under a deterministic disambiguated
// name derived from its capture timestamp (and, should that collide too, its size and a counter), so every
// pipeline instance, before and after a restart, picks the same row for the same capture.

/** How many stored names are tried for one wire name before the metadata is refused. */
export const STORED_NAME_CANDIDATES_MAX = 6;

/** `image_1.jpg` + `20260114100000` → `image_1~20260114100000.jpg` (the tag goes before the extension). */
export function disambiguatedName(wireName: string, tag: string): string {
  const dot = wireName.lastIndexOf('.');
  return dot > 0 ? `${wireName.slice(0, dot)}~${tag}${wireName.slice(dot)}` : `${wireName}~${tag}`;
}

/** The digits of a device timestamp (`2026-01-14T10:00:00Z` → `20260114100000`), at most 20; a short hash of the
 *  text when it has no digits at all. */
export function timestampTag(timestamp: string): string {
  const digits = timestamp.replace(/\D+/g, '').slice(0, 20);
  return digits.length > 0 ? digits : `t${fnv1a32(timestamp).toString(16).padStart(8, '0')}`;
}

/** The names one capture may be stored under, in the order they are tried: the wire name first. */
export function storedNameCandidates(wireName: string, timestamp: string, imageSize: number): string[] {
  const ts = timestampTag(timestamp);
  const names = [wireName, disambiguatedName(wireName, ts), disambiguatedName(wireName, `${ts}-${imageSize}`)];
  for (let k = 2; names.length < STORED_NAME_CANDIDATES_MAX; k++) {
    names.push(disambiguatedName(wireName, `${ts}-${imageSize}-${k}`));
  }
  return names;
}

/** FNV-1a, 32 bit: a stable, dependency-free string hash (names, wake staggering). */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
