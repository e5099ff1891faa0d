// JSON for jsonb parameters: Postgres rejects the NUL character (\u0000) in jsonb strings, so it is dropped.
export function jsonParam(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? v.replaceAll('\u0000', '') : v));
}
