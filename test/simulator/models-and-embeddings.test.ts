import { expect, it, onTestFinished } from 'vitest';
import { startSimulatedRouter } from '../../src/simulator/router.js';
import { DEFAULT_MODEL_NAMES, modelIdFor } from '../../src/simulator/catalogue.js';
import { postJson, rawRequest } from './http.js';

it('lists the catalogue with on-chain ids and serves embeddings on a session', async () => {
  const router = await startSimulatedRouter();
  onTestFinished(() => router.close());
  const headers = router.chatHeaders(router.sessions.forModel('mistral-31-24b')[0]?.id ?? '');

  const models = await rawRequest(`${router.url}/v1/models`, { headers });
  expect(JSON.parse(models.body)).toEqual(
    DEFAULT_MODEL_NAMES.map((name) => ({ Id: modelIdFor(name), Name: name, Model: name })),
  );
  expect(modelIdFor('llama-3.3-70b')).toMatch(/^0x[0-9a-f]{64}$/);

  const res = await postJson(`${router.url}/v1/embeddings`, headers, { input: ['a', 'bb'] });
  expect(res.status).toBe(200);
  const body = JSON.parse(res.body) as { data: { embedding: number[] }[] };
  expect(body).toEqual({
    object: 'list',
    data: [
      { object: 'embedding', index: 0, embedding: body.data[0]?.embedding },
      { object: 'embedding', index: 1, embedding: body.data[1]?.embedding },
    ],
    model: 'mistral-31-24b',
    usage: { prompt_tokens: 2, total_tokens: 2 },
  });
  expect(body.data[0]?.embedding).toHaveLength(8);
});
