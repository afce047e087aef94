/** 0x-prefixed on-chain ids (sessions, models, bids) and other long hex/uuid path segments. */
const ID_SEGMENT = /^(?:0x[0-9a-fA-F]+|[0-9a-fA-F-]{16,}|\d+)$/;

/**
 * A low-cardinality route template for span names and metric labels: `/blockchain/sessions/0xabc…/close`
 * → `/blockchain/sessions/{id}/close`. The exact path stays in `url.path`.
 */
export function routeTemplate(path: string): string {
  const q = path.indexOf('?');
  const p = q === -1 ? path : path.slice(0, q);
  if (p === '/v1/chat/completions' || p === '/v1/models' || p === '/v1/embeddings' || p === '/healthcheck') return p;
  const parts = p.split('/');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part !== undefined && ID_SEGMENT.test(part)) parts[i] = '{id}';
  }
  return parts.join('/');
}

export function isChatCompletions(path: string): boolean {
  return path === '/v1/chat/completions' || path.startsWith('/v1/chat/completions?');
}
