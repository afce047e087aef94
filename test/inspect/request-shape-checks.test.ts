import { expect, it } from 'vitest';
import { PromptRatios, checkChunkShape, checkCompletionTokens, requestShapeOf } from '../../src/inspect/request-shape.js';

const T = 1_764_000_000_000;

it('reads the shape of a gateway-shaped body (no model) with no content kept', () => {
  const shape = requestShapeOf(
    { messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'secret words' }] }], max_tokens: 9, max_completion_tokens: 7, n: 2, tools: [{}], top_logprobs: 3 },
    T,
  );
  expect(shape).toEqual({ promptChars: 20, messages: 2, maxTokens: 7, n: 2, toolsOffered: true, logprobsAsked: true, arrivedAt: T });
  expect(requestShapeOf('nope', T)).toEqual({ promptChars: 0, messages: 0, n: 1, toolsOffered: false, logprobsAsked: false, arrivedAt: T });
});

it('per-chunk and completion checks', () => {
  const shape = requestShapeOf({ messages: [], max_tokens: 10 }, T);
  const choices = { empty: false, maxIndex: 1, finished: [], withContent: [1], toolCalls: true, logprobs: true };
  expect(checkChunkShape(shape, choices, T / 1000 - 31).map((f) => f.reason)).toEqual([
    'choice_index_out_of_range',
    'unrequested_tool_calls',
    'unrequested_logprobs',
    'created_before_request',
  ]);
  expect(checkChunkShape(shape, undefined, T / 1000 - 29)).toEqual([]);
  expect(checkCompletionTokens(shape, 12)).toBeUndefined();
  expect(checkCompletionTokens(shape, 13)?.reason).toBe('completion_tokens_exceed_max');
});

it('learns tokens per character per model as a median, robust to outliers, and then judges more tightly', () => {
  const ratios = new PromptRatios({ minSamples: 8 });
  const shape = requestShapeOf({ messages: [{ role: 'user', content: 'y'.repeat(4000) }] }, T);
  for (let i = 0; i < 10; i++) ratios.learn('m', shape, 32 + 1000); // 0.25 tokens a char
  ratios.learn('m', shape, 32 + 100_000); // one outlier
  expect(ratios.ratio('m')).toBeCloseTo(0.25, 5);
  expect(ratios.check('m', shape, 1032)).toBeUndefined();
  expect(ratios.check('m', shape, 3500)?.evidence.ratio).toBe('learned'); // within the prior's factor 5, not the learned 3
  expect(ratios.check('other', shape, 3500)).toBeUndefined();
});
