/**
 * Route names for span names, metric labels and incidents come from this fixed set (the router's routes, as the
 * gateway calls them; CONTEXT.md). Anything else is `other`: a path segment is data the caller chose (it may
 * hold a key), so it never becomes a label, a span name or an incident field, and 10,000 distinct paths stay
 * one series.
 */
export const OTHER_ROUTE = 'other';

/** An on-chain id (`0x` + hex) in a known route's `{id}` position. */
const ID_SEGMENT = /^0x[0-9a-fA-F]{1,128}$/;

const KNOWN_ROUTES = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/models',
  '/v1/embeddings',
  '/v1/audio/transcriptions',
  '/v1/audio/speech',
  '/healthcheck',
  '/blockchain/models',
  '/blockchain/models/{id}/session',
  '/blockchain/bids/{id}',
  '/blockchain/bids/{id}/session',
  '/blockchain/sessions',
  '/blockchain/sessions/{id}',
  '/blockchain/sessions/{id}/close',
] as const;

export type RouteName = (typeof KNOWN_ROUTES)[number] | typeof OTHER_ROUTE;

/** Every route name the proxy can emit (the bound on label cardinality). */
export const ROUTE_NAMES: readonly RouteName[] = [...KNOWN_ROUTES, OTHER_ROUTE];

/** Path → its route name: the constant, not the caller's copy (kept per request, e.g. by incidents' seeds). */
const EXACT = new Map<string, RouteName>(KNOWN_ROUTES.filter((r) => !r.includes('{id}')).map((r) => [r, r]));
const TEMPLATES = KNOWN_ROUTES.filter((r) => r.includes('{id}')).map((name) => ({ name, parts: name.split('/') }));

/** `/blockchain/sessions/0xabc…/close` → `/blockchain/sessions/{id}/close`; `/v1/anything-else` → `other`. */
export function routeTemplate(path: string): RouteName {
  const q = path.indexOf('?');
  const p = q === -1 ? path : path.slice(0, q);
  const exact = EXACT.get(p);
  if (exact !== undefined) return exact;
  const parts = p.split('/');
  for (const template of TEMPLATES) {
    if (template.parts.length !== parts.length) continue;
    let ok = true;
    for (let i = 0; i < template.parts.length && ok; i++) {
      const t = template.parts[i] as string;
      const part = parts[i] as string;
      ok = t === '{id}' ? ID_SEGMENT.test(part) : t === part;
    }
    if (ok) return template.name;
  }
  return OTHER_ROUTE;
}

export function isChatCompletions(path: string): boolean {
  return path === '/v1/chat/completions' || path.startsWith('/v1/chat/completions?');
}
