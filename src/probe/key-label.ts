/**
 * How the probe names an API key in anything it prints: the gateway's public prefix (`sk-` + 6 alphanumerics,
 * stored in `api_keys.key_prefix`), or `key-N` for a key of another shape. Never a character of the secret part.
 */
const GATEWAY_KEY_PREFIX = /^(sk-[A-Za-z0-9]{6})[.]/;

export function keyLabel(key: string, index: number): string {
  return GATEWAY_KEY_PREFIX.exec(key)?.[1] ?? `key-${index + 1}`;
}

/** Labels for a list of keys; two keys with the same public prefix get `#2`, `#3` suffixes so rows stay apart. */
export function keyLabels(keys: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return keys.map((key, i) => {
    const label = keyLabel(key, i);
    const n = (seen.get(label) ?? 0) + 1;
    seen.set(label, n);
    return n === 1 ? label : `${label}#${n}`;
  });
}
