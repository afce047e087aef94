/**
 * Connection strings are printed in reports, errors and span attributes; their password never is
 * (node-postgres and libpq URLs both carry it in the userinfo part or as `?password=`).
 */
export const PASSWORD_MASK = '***';

/** `postgres://app:secret@db:5432/gw` → `postgres://app:***@db:5432/gw`. Anything unparsable is masked coarsely. */
export function maskUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL we can parse (a mistyped `--db` value): mask whatever sits where a password would.
    return url
      .replace(/\/\/([^/@:]*):[^/@]*@/, `//$1:${PASSWORD_MASK}@`)
      .replace(/(password=)[^&\s]*/gi, `$1${PASSWORD_MASK}`);
  }
  if (parsed.password !== '') parsed.password = PASSWORD_MASK;
  for (const key of [...parsed.searchParams.keys()]) {
    if (key.toLowerCase() === 'password') parsed.searchParams.set(key, PASSWORD_MASK);
  }
  // URL re-encodes `***` in the userinfo as-is, but the query string form would become %2A; undo that.
  return parsed.toString().replaceAll('%2A%2A%2A', PASSWORD_MASK);
}

/** The raw passwords in `url` (userinfo and `?password=`), decoded. */
function passwordsOf(url: string): string[] {
  try {
    const parsed = new URL(url);
    const found = [decodeURIComponent(parsed.password), parsed.searchParams.get('password') ?? ''];
    return found.filter((p) => p !== '');
  } catch {
    return [];
  }
}

/**
 * Scrubs a message that may quote `url` (a driver error, a stack line): the raw URL becomes the masked one
 * and any remaining copy of the password becomes `***`. Passwords shorter than 4 characters are only
 * removed as part of the URL; replacing every `a` in a message would make it unreadable.
 */
export function redactUrl(message: string, url: string): string {
  let out = message.replaceAll(url, maskUrl(url));
  for (const password of passwordsOf(url)) {
    if (password.length >= 4) {
      out = out.replaceAll(password, PASSWORD_MASK).replaceAll(encodeURIComponent(password), PASSWORD_MASK);
    }
  }
  return out;
}
