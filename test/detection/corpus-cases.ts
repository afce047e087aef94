/**
 * The corpus's categories (issue 13 "Done when"): each builds one scripted instance from a seed and returns every
 * request's flight (victims and innocents alike), scored by `score()`.
 */
import {
  answerEvents,
  end,
  feed,
  newId,
  newSession,
  newWorld,
  openSession,
  run,
  sse,
  start,
  warmUp,
  T0,
  type Flight,
  type World,
} from './corpus.js';

const LLAMA = 'llama-3.3-70b';
const QWEN = 'qwen3-235b';
const MISTRAL = 'mistral-31-24b';
const DONE = '[DONE]';

type Case = (seed: number) => Flight[];

/** Old gateway: a fresh session per model switch; two concurrent answers of different models trade places. */
const crossModelSwapFreshSessions: Case = (seed) => {
  const w = newWorld(seed);
  const warm = warmUp(w, [LLAMA, QWEN, MISTRAL], 2);
  const sa = openSession(w, LLAMA);
  const sb = openSession(w, QWEN);
  const a = start(w, { requestId: 'swap-a', session: sa, victim: true });
  const b = start(w, { requestId: 'swap-b', session: sb, victim: true });
  feed(a, sse([...answerEvents({ id: newId(w), model: QWEN, pieces: 5, promptTokens: 12 }), DONE]));
  feed(b, sse([...answerEvents({ id: newId(w), model: LLAMA, pieces: 5, promptTokens: 12 }), DONE]));
  end(w, a);
  end(w, b);
  // The innocent: a third fresh session answered correctly at the same time.
  const sc = openSession(w, MISTRAL);
  const c = run(w, { requestId: 'own-c', session: sc, victim: false }, sse([...answerEvents({ id: newId(w), model: MISTRAL, pieces: 5, promptTokens: 12 }), DONE]));
  return [...warm, a, b, c];
};

const bigPrompt = 'x'.repeat(24_000);

/** One model, two prompts of very different size, answers swapped: prompt_tokens gives them away. */
const sameModelSwapSizes: Case = (seed) => {
  const w = newWorld(seed);
  const warm = warmUp(w, [LLAMA], 2);
  const small = { messages: [{ role: 'user', content: 'What is 2+2?' }], stream: true };
  const large = { messages: [{ role: 'user', content: bigPrompt }], stream: true };
  const s1 = openSession(w, LLAMA);
  const s2 = openSession(w, LLAMA);
  const a = start(w, { requestId: 'small', session: s1, body: small, victim: true });
  const b = start(w, { requestId: 'large', session: s2, body: large, victim: true });
  feed(a, sse([...answerEvents({ id: newId(w), model: LLAMA, pieces: 4, promptTokens: 6_030 }), DONE]));
  feed(b, sse([...answerEvents({ id: newId(w), model: LLAMA, pieces: 4, promptTokens: 31 }), DONE]));
  end(w, a);
  end(w, b);
  // Innocents of both sizes, each with its own usage.
  const c = run(w, { requestId: 'small-ok', session: openSession(w, LLAMA), body: small, victim: false }, sse([...answerEvents({ id: newId(w), model: LLAMA, pieces: 4, promptTokens: 31 }), DONE]));
  const d = run(w, { requestId: 'large-ok', session: openSession(w, LLAMA), body: large, victim: false }, sse([...answerEvents({ id: newId(w), model: LLAMA, pieces: 4, promptTokens: 6_030 }), DONE]));
  return [...warm, a, b, c, d];
};

/** The shared reply callback: the newer request's answer lands on the older connection; the newer gets nothing. */
const starvedBesideRecipient: Case = (seed) => {
  const w = newWorld(seed);
  const warm = warmUp(w, [LLAMA, QWEN], 2);
  const older = start(w, { requestId: 'older', session: openSession(w, LLAMA), victim: true });
  const newer = start(w, { requestId: 'newer', session: openSession(w, QWEN), victim: true });
  feed(older, sse(answerEvents({ id: newId(w), model: LLAMA, pieces: 3, promptTokens: 12 })));
  feed(older, sse([...answerEvents({ id: newId(w), model: QWEN, pieces: 3, promptTokens: 12 }), DONE]));
  feed(newer, sse([DONE]));
  end(w, newer);
  end(w, older);
  // A starved answer alone (no peer carrying two) is recorded, not flagged.
  w.now.ms += 120_000;
  const lonely = run(w, { requestId: 'lonely-empty', session: openSession(w, MISTRAL), victim: false }, sse([DONE]));
  return [...warm, older, newer, lonely];
};

/** A fresh session's first answer is foreign; the sidecar must not learn it and then flag the true follow-up. */
const firstAnswerPoisoning: Case = (seed) => {
  const w = newWorld(seed);
  const s1 = openSession(w, MISTRAL);
  // No quorum for mistral yet: the foreign first answer (a model nobody has a quorum for either) is held.
  const poisoned = run(w, { requestId: 'poisoned', session: s1, victim: true }, sse([...answerEvents({ id: newId(w), model: 'gpt-oss-120b', pieces: 4, promptTokens: 12 }), DONE]));
  const followUp = run(w, { requestId: 'follow-up', session: s1, victim: false }, sse([...answerEvents({ id: newId(w), model: MISTRAL, pieces: 4, promptTokens: 12 }), DONE]));
  const others = [1, 2].map((i) =>
    run(w, { requestId: `other-${i}`, session: openSession(w, MISTRAL), victim: false }, sse([...answerEvents({ id: newId(w), model: MISTRAL, pieces: 4, promptTokens: 12 }), DONE])),
  );
  const later = run(w, { requestId: 'later', session: s1, victim: false }, sse([...answerEvents({ id: newId(w), model: MISTRAL, pieces: 4, promptTokens: 12 }), DONE]));
  return [poisoned, followUp, ...others, later];
};

/** Stable unique ids: a foreign id inside a stream is a finding at once; benign habits are never flagged. */
const idHabitStable: Case = (seed) => {
  const w = newWorld(seed);
  const warm = warmUp(w, [LLAMA], 6);
  const session = openSession(w, LLAMA);
  const mixed = start(w, { requestId: 'mixed', session, victim: true });
  const own = newId(w);
  feed(mixed, sse(answerEvents({ id: own, model: LLAMA, pieces: 3, promptTokens: 12 }).slice(0, 3)));
  const before = mixed.inspector.findings.length;
  feed(mixed, sse(answerEvents({ id: newId(w), model: LLAMA, pieces: 3, promptTokens: 12 })));
  if (before !== 0 || mixed.inspector.findings[0]?.reason !== 'completion_id_interleave') throw new Error('stable habit: not at the first foreign id');
  end(w, mixed);
  // A replay of another user's delivered answer: collision.
  const delivered = newId(w);
  const first = run(w, { requestId: 'first-owner', session: openSession(w, LLAMA), victim: false }, sse([...answerEvents({ id: delivered, model: LLAMA, pieces: 3, promptTokens: 12 }), DONE]));
  const replayed = run(w, { requestId: 'replayed-onto', session: openSession(w, LLAMA), victim: true }, sse([...answerEvents({ id: delivered, model: LLAMA, pieces: 3, promptTokens: 12 }), DONE]));
  // A usage-only final chunk with its own id is benign.
  const usageOwnId = run(w, { requestId: 'usage-own-id', session: openSession(w, LLAMA), victim: false }, sse([...answerEvents({ id: newId(w), model: LLAMA, pieces: 3, promptTokens: 12, usageChunkId: newId(w) }), DONE]));
  return [...warm, mixed, first, replayed, usageOwnId];
};

function benignHabit(style: 'drift' | 'fixed' | 'counter'): Case {
  return (seed) => {
    const w = newWorld(seed);
    const flights: Flight[] = [];
    let counter = 0;
    for (let i = 0; i < 12; i++) {
      const base = newId(w);
      const id = style === 'drift' ? (c: number) => `${base}${c}` : style === 'fixed' ? 'chatcmpl-1' : `chatcmpl-${(counter++ % 4) + 1}`;
      // Two at a time on the same upstream, overlapping (fixed ids then coincide in flight).
      const a = start(w, { requestId: `${style}-${i}-a`, session: openSession(w, QWEN), victim: false });
      const b = start(w, { requestId: `${style}-${i}-b`, session: openSession(w, QWEN), victim: false });
      feed(a, sse(answerEvents({ id, model: QWEN, pieces: 4, promptTokens: 12 }).slice(0, 2)));
      feed(b, sse([...answerEvents({ id: style === 'counter' ? `chatcmpl-${(counter++ % 4) + 1}` : id, model: QWEN, pieces: 4, promptTokens: 12 }), DONE]));
      feed(a, sse([...answerEvents({ id, model: QWEN, pieces: 4, promptTokens: 12 }).slice(2), DONE]));
      end(w, b);
      end(w, a);
      flights.push(a, b);
    }
    return flights;
  };
}

/** Two events spliced into one: `data: {…}data: {…}` and `{…}{…}`; the embedded (foreign) event is inspected too. */
const splicedEvents: Case = (seed) => {
  const w = newWorld(seed);
  const warm = warmUp(w, [LLAMA, QWEN], 2);
  const ownEvents = answerEvents({ id: newId(w), model: LLAMA, pieces: 4, promptTokens: 12 });
  const foreign = answerEvents({ id: newId(w), model: QWEN, pieces: 4, promptTokens: 12 });
  const a = run(w, { requestId: 'spliced-data', session: openSession(w, LLAMA), victim: true }, `data: ${ownEvents[0]}\n\ndata: ${ownEvents[1]}data: ${foreign[1]}\n\n${sse([...ownEvents.slice(2), DONE])}`);
  const b = run(w, { requestId: 'spliced-json', session: openSession(w, LLAMA), victim: true }, `data: ${ownEvents[0]}${foreign[0]}\n\n${sse([...ownEvents.slice(1), DONE])}`);
  // Benign: text that mentions `data: {` inside a content string is one valid JSON object.
  const tricky = `{"id":"${newId(w)}","object":"chat.completion.chunk","created":${Math.floor(T0 / 1000)},"model":"${LLAMA}","choices":[{"index":0,"delta":{"content":"write data: {\\"a\\":1}{} here"},"finish_reason":null}]}`;
  const c = run(w, { requestId: 'tricky-text', session: openSession(w, LLAMA), victim: false }, sse([tricky, DONE]));
  return [...warm, a, b, c];
};

/** Router failover: the answer after `new session opened: 0x…` is judged against the new session's model. */
const failover: Case = (seed) => {
  const w = newWorld(seed);
  const warm = warmUp(w, [LLAMA, QWEN], 2);
  const old = openSession(w, LLAMA);
  const fresh = openSession(w, QWEN); // the router opened it on another model's bid (the sidecar saw or looked it up)
  const ok = run(w, { requestId: 'failover-ok', session: old, victim: false }, sse(['provider failed, failover enabled', `new session opened: ${fresh}`, ...answerEvents({ id: newId(w), model: QWEN, pieces: 4, promptTokens: 12 }), DONE]));
  const fresh2 = openSession(w, QWEN);
  const bad = run(w, { requestId: 'failover-foreign', session: openSession(w, LLAMA), victim: true }, sse(['provider failed, failover enabled', `new session opened: ${fresh2}`, ...answerEvents({ id: newId(w), model: LLAMA, pieces: 4, promptTokens: 12 }), DONE]));
  return [...warm, ok, bad];
};

/** Names in another form (path, vendor prefix, -Instruct, quantisation) and another provider's name for the model. */
const normalisedNames: Case = (seed) => {
  const w = newWorld(seed);
  const p1 = `0x${'1'.repeat(40)}`;
  const p2 = `0x${'2'.repeat(40)}`;
  const flights: Flight[] = [];
  for (let i = 0; i < 2; i++) flights.push(run(w, { requestId: `p1-${i}`, session: openSession(w, LLAMA, p1), victim: false }, sse([...answerEvents({ id: newId(w), model: 'meta-llama/Llama-3.3-70B-Instruct', pieces: 3, promptTokens: 12 }), DONE])));
  for (const name of ['/models/Meta-Llama-3.3-70B-Instruct', 'Llama-3.3-70B-Instruct-AWQ', 'LLAMA-3.3-70B']) {
    flights.push(run(w, { requestId: `form-${name}`, session: openSession(w, LLAMA, p1), victim: false }, sse([...answerEvents({ id: newId(w), model: name, pieces: 3, promptTokens: 12 }), DONE])));
  }
  // Another provider serves the same model id under its own name: learned separately, not flagged.
  flights.push(run(w, { requestId: 'p2-own-name', session: openSession(w, LLAMA, p2), victim: false }, sse([...answerEvents({ id: newId(w), model: 'llama3.3:70b-q4', pieces: 3, promptTokens: 12 }), DONE])));
  // And a foreign answer on provider 1 is still caught.
  flights.push(run(w, { requestId: 'p1-foreign', session: openSession(w, LLAMA, p1), victim: true }, sse([...answerEvents({ id: newId(w), model: 'Qwen/Qwen3-235B', pieces: 3, promptTokens: 12 }), DONE])));
  return flights;
};

/** An ingress rewrote x-request-id: recorded as rewritten, never flagged; an echo naming another issued id is. */
const echoRewritten: Case = (seed) => {
  const w = newWorld(seed);
  const rewritten = run(w, { requestId: 'rid-1', session: openSession(w, LLAMA), victim: false }, sse([...answerEvents({ id: newId(w), model: LLAMA, pieces: 3, promptTokens: 12 }), DONE]), 'ingress-7f3a9c');
  if (rewritten.summary?.detection?.echo !== 'rewritten') throw new Error('echo not recorded as rewritten');
  const a = start(w, { requestId: 'rid-a', session: openSession(w, LLAMA), victim: false });
  const b = start(w, { requestId: 'rid-b', session: openSession(w, LLAMA), victim: true }, 'rid-a');
  feed(a, sse([...answerEvents({ id: newId(w), model: LLAMA, pieces: 3, promptTokens: 12 }), DONE]));
  feed(b, sse([...answerEvents({ id: newId(w), model: LLAMA, pieces: 3, promptTokens: 12 }), DONE]));
  end(w, a);
  end(w, b);
  return [rewritten, a, b];
};

/** A response cache replays a completion to the same key and session: not a collision; to another key it is. */
const sameUserReplay: Case = (seed) => {
  const w = newWorld(seed, { sessionScope: 'key' });
  const warm = warmUp(w, [LLAMA], 6);
  const session = openSession(w, LLAMA);
  const id = newId(w);
  const text = sse([...answerEvents({ id, model: LLAMA, pieces: 3, promptTokens: 12 }), DONE]);
  const first = run(w, { requestId: 'cache-1', session, key: 'key-alice', victim: false }, text);
  const replay = run(w, { requestId: 'cache-2', session, key: 'key-alice', victim: false }, text);
  const other = run(w, { requestId: 'cache-bob', session: openSession(w, LLAMA), key: 'key-bob', victim: true }, text);
  return [...warm, first, replay, other];
};

/** The id window under volume: 100,000 ids a minute for 9 minutes, then the first id replayed onto another user. */
const windowsUnderVolume: Case = (seed) => {
  const w = newWorld(seed);
  const warm = warmUp(w, [LLAMA], 6);
  const session = openSession(w, LLAMA);
  const firstId = newId(w);
  const owner = run(w, { requestId: 'owner-0', session, victim: false }, sse([...answerEvents({ id: firstId, model: LLAMA, pieces: 2, promptTokens: 12 }), DONE]));
  for (let minute = 0; minute < 9; minute++) {
    for (let r = 0; r < 1000; r++) {
      w.now.ms += 60;
      w.store.addDelivered(Array.from({ length: 100 }, (_, i) => `bulk-${minute}-${r}-${i}`), { requestId: `bulk-${minute}-${r}` });
    }
  }
  const replayed = run(w, { requestId: 'replayed-late', session: openSession(w, LLAMA), victim: true }, sse([...answerEvents({ id: firstId, model: LLAMA, pieces: 2, promptTokens: 12 }), DONE]));
  return [...warm, owner, replayed];
};

/** Content-free checks of an answer against its own request's shape. */
const requestShape: Case = (seed) => {
  const w = newWorld(seed);
  const warm = warmUp(w, [LLAMA], 2);
  const plain = { messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 20 };
  const flights: Flight[] = [...warm];
  const chunk = (over: Partial<Parameters<typeof answerEvents>[0]>) =>
    sse([...answerEvents({ id: newId(w), model: LLAMA, pieces: 3, promptTokens: 12, ...over }), DONE]);
  flights.push(run(w, { requestId: 'tools-unasked', session: openSession(w, LLAMA), body: plain, victim: true }, chunk({ toolCall: true })));
  flights.push(run(w, { requestId: 'logprobs-unasked', session: openSession(w, LLAMA), body: plain, victim: true }, chunk({ choiceExtra: ',"logprobs":{"content":[]}' })));
  flights.push(run(w, { requestId: 'index-vs-n', session: openSession(w, LLAMA), body: plain, victim: true }, chunk({ index: 1 })));
  flights.push(run(w, { requestId: 'over-max-tokens', session: openSession(w, LLAMA), body: plain, victim: true }, chunk({ completionTokens: 900 })));
  flights.push(run(w, { requestId: 'made-before-asked', session: openSession(w, LLAMA), body: plain, victim: true }, chunk({ created: Math.floor(T0 / 1000) - 600 })));
  // Benign: tools offered and used, logprobs asked, n = 2, within the cap, created a little early (skew).
  const rich = { ...plain, tools: [{ type: 'function', function: { name: 'f' } }], logprobs: true, n: 2 };
  flights.push(run(w, { requestId: 'tools-asked', session: openSession(w, LLAMA), body: rich, victim: false }, chunk({ toolCall: true, choiceExtra: ',"logprobs":{"content":[]}', index: 1, completionTokens: 40 })));
  flights.push(run(w, { requestId: 'skewed-clock', session: openSession(w, LLAMA), body: plain, victim: false }, chunk({ created: Math.floor(T0 / 1000) - 10 })));
  return flights;
};

export const CATEGORIES: Record<string, Case> = {
  cross_model_swap_fresh_sessions: crossModelSwapFreshSessions,
  same_model_swap_prompt_sizes: sameModelSwapSizes,
  starved_beside_recipient: starvedBesideRecipient,
  first_answer_poisoning: firstAnswerPoisoning,
  id_habit_stable: idHabitStable,
  id_habit_drifting: benignHabit('drift'),
  id_habit_fixed: benignHabit('fixed'),
  id_habit_counter: benignHabit('counter'),
  spliced_events: splicedEvents,
  failover: failover,
  normalised_names: normalisedNames,
  echo_rewritten_by_hop: echoRewritten,
  same_user_replay: sameUserReplay,
  windows_under_volume: windowsUnderVolume,
  request_shape: requestShape,
};

export { newSession, type World };
