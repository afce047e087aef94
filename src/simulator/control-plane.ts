/**
 * The router's blockchain routes the gateway calls through the sidecar (see CONTEXT.md, "The control plane"):
 * open a session on a model or a bid, look a session or a bid up, list the models, close a session.
 * Field names and envelopes are the router's (`{"sessionID"}`, `{"session": {…}}`, `{"bid": {…}}`, `{"models": […]}`).
 */
import type { SimModel } from './catalogue.js';
import { RouteError, readJson, sendJson, type PatternRoute, type Route } from './http-json.js';
import type { Prng } from './prng.js';
import type { SessionStore } from './sessions.js';

function durationOf(body: Record<string, unknown>): number | undefined {
  return typeof body['sessionDuration'] === 'number' ? body['sessionDuration'] : undefined;
}

/** `GET /blockchain/models`: the on-chain model registry (the `Name` is not what the provider's LLM reports). */
export function modelsRoute(models: readonly SimModel[]): Route {
  return {
    method: 'GET',
    auth: true,
    handle: ({ res }) =>
      sendJson(res, 200, {
        models: models.map((m) => ({ Id: m.id, Name: m.name, Tags: ['LLM'], ModelType: 'LLM', IsDeleted: false })),
      }),
  };
}

export function controlPlaneRoutes(sessions: SessionStore, prng: Prng): PatternRoute[] {
  return [
    {
      pattern: /^\/blockchain\/models\/([^/]+)\/session$/,
      route: {
        method: 'POST',
        auth: true,
        handle: async ({ req, res, params }) => {
          const body = await readJson(req);
          const model = sessions.findModel(params[0] ?? '');
          if (model === undefined) throw new RouteError(404, 'model not found');
          const session = sessions.open(model, durationOf(body));
          sendJson(res, 200, { sessionID: session.id });
        },
      },
    },
    {
      pattern: /^\/blockchain\/bids\/([^/]+)\/session$/,
      route: {
        method: 'POST',
        auth: true,
        handle: async ({ req, res, params }) => {
          const body = await readJson(req);
          const session = sessions.openOnBid(params[0] ?? '', durationOf(body));
          if (session === undefined) throw new RouteError(404, 'bid not found');
          sendJson(res, 200, { sessionID: session.id });
        },
      },
    },
    {
      pattern: /^\/blockchain\/bids\/([^/]+)$/,
      route: {
        method: 'GET',
        auth: true,
        handle: ({ res, params }) => {
          const bid = sessions.bid(params[0] ?? '');
          if (bid === undefined) throw new RouteError(404, 'bid not found');
          sendJson(res, 200, { bid: sessions.bidBody(bid) });
        },
      },
    },
    {
      pattern: /^\/blockchain\/sessions\/([^/]+)\/close$/,
      route: {
        method: 'POST',
        auth: true,
        handle: ({ res, params }) => {
          const id = params[0] ?? '';
          if (sessions.get(id) === undefined) throw new RouteError(404, 'session not found');
          if (!sessions.close(id)) throw new RouteError(400, 'session already closed');
          sendJson(res, 200, { tx: `0x${prng.hex(64)}` });
        },
      },
    },
    {
      pattern: /^\/blockchain\/sessions\/([^/]+)$/,
      route: {
        method: 'GET',
        auth: true,
        handle: ({ res, params }) => {
          const session = sessions.get(params[0] ?? '');
          if (session === undefined) throw new RouteError(404, 'session not found');
          sendJson(res, 200, { session: sessions.toBody(session) });
        },
      },
    },
  ];
}
