import { expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import { postJson, rawRequest } from './http.js';
import { jsonChunks } from './sse.js';

it('opens a session bound to a model, reports it, serves chat on it, and closes it', async () => {
  const now = 1_760_000_000_000;
  const router = await startSimulatedRouter({ clock: () => now });
  onTestFinished(() => router.close());
  const auth = { authorization: router.chatHeaders('').authorization ?? '' };
  const qwen = router.models.find((m) => m.name === 'qwen3-235b');

  const opened = await postJson(`${router.url}/blockchain/models/${qwen?.id ?? ''}/session`, auth, {
    sessionDuration: 600,
    failover: false,
  });
  expect(opened.status).toBe(200);
  const { sessionID } = JSON.parse(opened.body) as { sessionID: string };
  expect(sessionID).toMatch(/^0x[0-9a-f]{64}$/);

  const got = await rawRequest(`${router.url}/blockchain/sessions/${sessionID}`, { headers: auth });
  const { session } = JSON.parse(got.body) as { session: { BidID: string; Provider: string } };
  expect(session).toEqual({
    Id: sessionID,
    User: expect.stringMatching(/^0x[0-9a-f]{40}$/) as string,
    Provider: expect.stringMatching(/^0x[0-9a-f]{40}$/) as string,
    ModelAgentId: qwen?.id,
    BidID: expect.stringMatching(/^0x[0-9a-f]{64}$/) as string,
    Stake: '1000000000000000000',
    PricePerSecond: '100000000000',
    CloseoutReceipt: '0x',
    CloseoutType: 0,
    ProviderWithdrawnAmount: '0',
    OpenedAt: 1_760_000_000,
    EndsAt: 1_760_000_600,
    ClosedAt: 0,
  });

  const chat = await postJson(`${router.url}/v1/chat/completions`, router.chatHeaders(sessionID), { stream: true });
  expect(jsonChunks(chat.body)[0]?.model).toBe('qwen3-235b');

  const closed = await postJson(`${router.url}/blockchain/sessions/${sessionID}/close`, auth, {});
  expect(closed.status).toBe(200);
  expect(JSON.parse(closed.body)).toEqual({ tx: expect.stringMatching(/^0x[0-9a-f]{64}$/) as string });
  const after = await rawRequest(`${router.url}/blockchain/sessions/${sessionID}`, { headers: auth });
  expect((JSON.parse(after.body) as { session: { ClosedAt: number } }).session.ClosedAt).toBe(1_760_000_000);
  const again = await postJson(`${router.url}/blockchain/sessions/${sessionID}/close`, auth, {});
  expect(again.status).toBe(400);

  const unknownModel = await postJson(`${router.url}/blockchain/models/0x${'0'.repeat(64)}/session`, auth, {});
  expect(unknownModel.status).toBe(404);
  expect(JSON.parse(unknownModel.body)).toEqual({ error: 'model not found' });
  const unknownSession = await rawRequest(`${router.url}/blockchain/sessions/0x${'1'.repeat(64)}`, { headers: auth });
  expect(unknownSession.status).toBe(404);
});

it('serves the bid behind a session, opens another session on it (same provider), and lists the on-chain models', async () => {
  const router = await startSimulatedRouter({ clock: () => 1_760_000_000_000 });
  onTestFinished(() => router.close());
  const auth = { authorization: router.chatHeaders('').authorization ?? '' };
  const llama = router.models.find((m) => m.name === 'llama-3.3-70b');
  const opened = await postJson(`${router.url}/blockchain/models/${llama?.id ?? ''}/session`, auth, { sessionDuration: 60 });
  const { sessionID } = JSON.parse(opened.body) as { sessionID: string };
  const first = (JSON.parse((await rawRequest(`${router.url}/blockchain/sessions/${sessionID}`, { headers: auth })).body) as {
    session: { BidID: string; Provider: string };
  }).session;

  const bid = await rawRequest(`${router.url}/blockchain/bids/${first.BidID}`, { headers: auth });
  expect(JSON.parse(bid.body)).toEqual({
    bid: {
      Id: first.BidID,
      Provider: first.Provider,
      ModelAgentId: llama?.id,
      PricePerSecond: '100000000000',
      Nonce: '0',
      CreatedAt: 0,
      DeletedAt: 0,
    },
  });
  const onBid = await postJson(`${router.url}/blockchain/bids/${first.BidID}/session`, auth, { sessionDuration: 60 });
  const second = (JSON.parse(onBid.body) as { sessionID: string }).sessionID;
  expect(second).not.toBe(sessionID);
  const secondBody = JSON.parse((await rawRequest(`${router.url}/blockchain/sessions/${second}`, { headers: auth })).body) as {
    session: { Provider: string; ModelAgentId: string; BidID: string };
  };
  expect(secondBody.session).toMatchObject({ Provider: first.Provider, ModelAgentId: llama?.id, BidID: first.BidID });

  const models = JSON.parse((await rawRequest(`${router.url}/blockchain/models`, { headers: auth })).body) as {
    models: Array<{ Id: string; Name: string; ModelType: string }>;
  };
  expect(models.models.map((m) => [m.Id, m.Name, m.ModelType])).toEqual(router.models.map((m) => [m.id, m.name, 'LLM']));
  expect((await postJson(`${router.url}/blockchain/bids/0x${'2'.repeat(64)}/session`, auth, {})).status).toBe(404);
});
