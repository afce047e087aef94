import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

/** What a client saw: `complete` is false when the connection closed before the body ended. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  complete: boolean;
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Called with the whole body received so far after every network read. */
  onData?: (soFar: string) => void;
  /** Aborts the request (the promise then resolves with what arrived, or status 0 before headers). */
  signal?: AbortSignal;
}

/**
 * A plain node:http client (fresh connection per request) that never throws on a cut-off body: tests of resets
 * and stalls need the bytes that did arrive.
 */
export function rawRequest(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false });
    let body = '';
    let settled = false;
    const settle = (result: RawResponse): void => {
      if (!settled) {
        settled = true;
        resolve(result);
      }
    };
    options.signal?.addEventListener('abort', () => req.destroy(), { once: true });
    req.on('response', (res) => {
      res.setEncoding('utf8');
      res.on('data', (part: string) => {
        body += part;
        options.onData?.(body);
      });
      const done = (): void => settle({ status: res.statusCode ?? 0, headers: res.headers, body, complete: res.complete });
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    req.on('error', (err) => {
      if (options.signal?.aborted === true || (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
        settle({ status: 0, headers: {}, body, complete: false });
      } else if (!settled) {
        settled = true;
        reject(err);
      }
    });
    req.end(options.body);
  });
}

export function postJson(url: string, headers: Record<string, string>, body: unknown): Promise<RawResponse> {
  return rawRequest(url, { method: 'POST', headers, body: JSON.stringify(body) });
}
