import { expect, it } from 'vitest';
import { keyOf, settled, startE2e } from './e2e.js';

// Issue 13 item 2, through the real proxy: a fresh session's FIRST answer comes from another model (a foreign
// answer no rule can see yet: the model has no known names). It must not teach the session a model that flags the
// innocent answers after it; once other sessions of the model form a quorum, the incident goes to the request
// that taught the wrong name.
it('first-answer poisoning: the innocent follow-up is not flagged; the incident moves to the teacher', async () => {
  const w = await startE2e({ seed: 61, mode: 'session-per-key' });
  const model = 'mistral-31-24b';
  const teacher = await w.chat(keyOf(1), model, 40, {}, { 'x-sim-fault': 'model:gpt-oss-120b' });
  const followUp = await w.chat(keyOf(1), model);
  expect(followUp.result.sessionId).toBe(teacher.result.sessionId);
  expect(teacher.result.models[0]).toBe('gpt-oss-120b');
  await settled(w);
  expect(w.incidents().size).toBe(0);
  // Two other keys (fresh sessions) answer as the model does: the quorum forms and overturns the teacher's vote.
  await w.chat(keyOf(2), model);
  await w.chat(keyOf(3), model);
  const later = await w.chat(keyOf(1), model);
  await settled(w);
  const incidents = w.incidents();
  expect([...incidents.keys()]).toEqual([teacher.requestId]);
  const incident = incidents.get(teacher.requestId);
  expect(incident?.reasons).toEqual(['model_mismatch']);
  expect(incident?.evidence[0]).toMatchObject({ reason: 'model_mismatch', rule: 'overturned', seen: 'gpt-oss-120b', session: teacher.result.sessionId });
  expect(incident?.session).toBe(teacher.result.sessionId);
  expect(incident?.relatedRequestIds.length).toBe(1);
  expect(incidents.has(followUp.requestId)).toBe(false);
  expect(incidents.has(later.requestId)).toBe(false);
});
