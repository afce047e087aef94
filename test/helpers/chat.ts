import { request } from 'undici';
import { SimulatedGateway, type GatewayMode, type SimAuth } from '../../src/simulator/index.js';

export interface ChatResult {
  status: number;
  requestId: string | undefined;
  body: string;
  ids: string[];
  models: string[];
  error?: unknown;
}

/** One streamed chat completion through `url`, parsed loosely (tests assert on what the caller saw). */
export async function streamChat(
  url: string,
  headers: Record<string, string>,
  body: Record<string, unknown> = {},
): Promise<ChatResult> {
  const res = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'hello' }], ...body }),
  });
  let text = '';
  let error: unknown;
  try {
    text = await res.body.text();
  } catch (err) {
    error = err;
  }
  const ids: string[] = [];
  const models: string[] = [];
  for (const m of text.matchAll(/^data: (\{.*\})\r?$/gm)) {
    try {
      const chunk = JSON.parse(m[1] as string) as { id?: string; model?: string };
      if (chunk.id) ids.push(chunk.id);
      if (chunk.model) models.push(chunk.model);
    } catch {
      /* not JSON */
    }
  }
  const rid = res.headers['x-request-id'];
  return { status: res.statusCode, requestId: typeof rid === 'string' ? rid : undefined, body: text, ids, models, ...(error !== undefined && { error }) };
}

/**
 * Gateway-shaped traffic (the default for new tests): a simulated gateway in `mode` talking to `url` (the sidecar)
 * with the router's credentials. No `model` in bodies, no key header, sessions opened through the control plane.
 */
export function gatewayFor(url: string, auth: SimAuth | undefined, mode: GatewayMode = 'session-per-key'): SimulatedGateway {
  return new SimulatedGateway({ baseUrl: url, mode, auth });
}
