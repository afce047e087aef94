/** The small HTTP helpers the simulated router's routes share: JSON answers, bounded JSON bodies, route errors. */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { MAX_REQUEST_BODY_BYTES } from './options.js';
import type { Faults } from './faults.js';

/** A request refused with the router's `{"error": …}` body. */
export class RouteError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  faults: Faults;
}

export interface Route {
  method: 'GET' | 'POST';
  auth: boolean;
  handle(ctx: RequestContext): Promise<void> | void;
}

/** A route whose path has parameters (`/blockchain/sessions/{id}`). */
export interface PatternRoute {
  pattern: RegExp;
  route: Route;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message });
}

export function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size > MAX_REQUEST_BODY_BYTES) {
        reject(new RouteError(413, 'request body too large'));
        req.destroy();
        return;
      }
      parts.push(part);
    });
    req.once('end', () => resolve(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts)));
    req.once('error', reject);
  });
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RouteError(400, 'invalid JSON body');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RouteError(400, 'request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

export function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
