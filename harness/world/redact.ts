// Secrets in the world's URLs (a Postgres or broker password, `?password=` in a query string) never reach stdout,
// stderr, JSON, reports, bundles or history: every place camfleet prints or writes text passes it through here.
// One function for one URL and one for free text (error messages from pg or mqtt.js that embed a URL).

/** Query-string keys whose value is a secret (libpq's `password`/`sslpassword`, tokens of hosted brokers). */
const secretParamPattern = /^(password|passwd|pass|pwd|sslpassword|sslkey|secret|token|access_token|api_key|apikey)$/i;
const secretParamNames = 'password|passwd|pass|pwd|sslpassword|sslkey|secret|token|access_token|api_key|apikey';

const masked = '***';

/** A URL fit to print: a password in the user part and secret query parameters become `***`; the rest is kept. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Not a URL the WHATWG parser takes (pg and mqtt.js are more lenient): mask by pattern instead.
    return redactText(url);
  }
  if (u.password) u.password = masked;
  for (const key of [...u.searchParams.keys()]) if (secretParamPattern.test(key)) u.searchParams.set(key, masked);
  return u.toString();
}

/**
 * Free text with every secret masked: the password of any `scheme://user:password@` in it, secret query
 * parameters, and the literal passwords of `knownUrls` wherever they appear (a driver may echo one without its
 * URL). Text without secrets comes back unchanged.
 */
export function redactText(text: string, knownUrls: readonly (string | undefined)[] = []): string {
  let out = text
    // Greedy up to the last `@` of the authority: the WHATWG parser also splits user info there, so a password
    // holding a raw `@` is masked whole.
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s/@:]*):[^\s/]*@/gi, `$1:${masked}@`)
    // `;` too: in XML a query's `&` is `&amp;`.
    .replace(new RegExp(`([?&;](?:${secretParamNames})=)[^&\\s'"]*`, 'gi'), `$1${masked}`);
  for (const secret of knownUrls.flatMap(passwordsOf)) out = out.split(secret).join(masked);
  return out;
}

/** The password of a URL, raw and percent-decoded (either may be echoed); none shorter than 3 characters. */
function passwordsOf(url: string | undefined): string[] {
  if (!url) return [];
  let raw: string;
  try {
    raw = new URL(url).password;
  } catch {
    raw = /^[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:([^\s/]*)@/i.exec(url)?.[1] ?? '';
  }
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // a stray `%`: the raw form is all there is
  }
  // Very short "passwords" would mask ordinary text all over; they are masked wherever they sit in a URL above.
  return [...new Set([raw, decoded])].filter((s) => s.length >= 3 && s !== masked);
}
