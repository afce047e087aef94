import { expect, it } from 'vitest';
import { answerEvents, feed, newId, newWorld, openSession, start, sse, warmUp } from './corpus.js';

// Issue 13 "Done when": block mode stops a cross-model swap on a session the sidecar saw opened before any
// foreign byte. At the inspector level: the finding is raised by the first foreign event itself, so the proxy's
// block (which cuts at the event that raised the first finding) forwards none of it. End to end: see the report.
it('the first event of a foreign model on a session seen opened is a finding by itself', () => {
  const w = newWorld(7);
  warmUp(w, ['llama-3.3-70b', 'qwen3-235b'], 2);
  const session = openSession(w, 'llama-3.3-70b');
  const f = start(w, { requestId: 'victim', session, victim: true });
  const [firstForeign] = answerEvents({ id: newId(w), model: 'qwen3-235b', pieces: 3, promptTokens: 12 });
  let raisedAt = -1;
  let events = 0;
  const parserOnEvent = f.inspector.onEvent.bind(f.inspector);
  f.inspector.onEvent = (e) => {
    parserOnEvent(e);
    events++;
    if (raisedAt === -1 && f.inspector.hasFindings) raisedAt = events;
  };
  feed(f, sse([firstForeign as string]));
  expect(raisedAt).toBe(1);
  expect(f.inspector.findings[0]).toMatchObject({ reason: 'model_mismatch', evidence: { seen: 'qwen3-235b', source: 'other_model' } });
});
